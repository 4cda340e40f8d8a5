using System.Text;

namespace ServerV3.Tokenization.Jinja;

/// <summary>
/// Walks the syntax tree and writes the output. One instance per render; errors raised by value
/// helpers get the position of the innermost construct being evaluated.
/// </summary>
internal sealed class TemplateRenderer
{
    // Deep macro recursion would overflow the server's stack; Jinja2 has Python's limit instead.
    private const int MaxCallDepth = 64;

    private int _callDepth;

    private enum Flow
    {
        Normal,
        Break,
        Continue,
    }

    public static string Render(IReadOnlyList<Statement> body, Scope scope)
    {
        var output = new StringBuilder();
        new TemplateRenderer().Execute(body, scope, output);
        return output.ToString();
    }

    private Flow Execute(IReadOnlyList<Statement> statements, Scope scope, StringBuilder output)
    {
        foreach (var statement in statements)
        {
            var flow = ExecuteOne(statement, scope, output);
            if (flow != Flow.Normal)
                return flow;
        }
        return Flow.Normal;
    }

    private Flow ExecuteOne(Statement statement, Scope scope, StringBuilder output)
    {
        try
        {
            switch (statement)
            {
                case TextStatement text:
                    output.Append(text.Text);
                    return Flow.Normal;
                case OutputStatement print:
                    output.Append(PythonFormat.Str(Evaluate(print.Value, scope)));
                    return Flow.Normal;
                case IfStatement conditional:
                    foreach (var branch in conditional.Branches)
                    {
                        if (JinjaValues.IsTruthy(Evaluate(branch.Condition, scope)))
                            return Execute(branch.Body, scope, output);
                    }
                    return conditional.Otherwise is { } otherwise ? Execute(otherwise, scope, output) : Flow.Normal;
                case ForStatement loop:
                    ExecuteFor(loop, scope, output);
                    return Flow.Normal;
                case SetStatement set:
                    Assign(set.Targets, Evaluate(set.Value, scope), scope);
                    return Flow.Normal;
                case SetAttributeStatement setAttribute:
                    if (scope.Lookup(setAttribute.Namespace) is not JinjaNamespace ns)
                        throw new JinjaException($"Cannot assign attribute '{setAttribute.Attribute}' on '{setAttribute.Namespace}': not a namespace object");
                    ns.Attributes[setAttribute.Attribute] = Evaluate(setAttribute.Value, scope);
                    return Flow.Normal;
                case SetBlockStatement setBlock:
                    scope.Set(setBlock.Target, RenderToString(setBlock.Body, scope));
                    return Flow.Normal;
                case MacroStatement macro:
                    scope.Set(macro.Name, CreateMacro(macro.Name, macro.Parameters, macro.Body, scope));
                    return Flow.Normal;
                case CallBlockStatement callBlock:
                    output.Append(PythonFormat.Str(CallWithCaller(callBlock, scope)));
                    return Flow.Normal;
                case FilterBlockStatement filterBlock:
                    var bodyScope = new Scope(scope);
                    bodyScope.Set(FilterBlockStatement.BodyVariable, RenderToString(filterBlock.Body, scope));
                    output.Append(PythonFormat.Str(Evaluate(filterBlock.Filtered, bodyScope)));
                    return Flow.Normal;
                case BreakStatement:
                    return Flow.Break;
                case ContinueStatement:
                    return Flow.Continue;
                default:
                    throw new JinjaException($"Unknown statement {statement.GetType().Name}");
            }
        }
        catch (JinjaException e) when (e.Line == 0)
        {
            throw e.At(statement.At);
        }
    }

    private void ExecuteFor(ForStatement loop, Scope scope, StringBuilder output)
    {
        var iterable = Evaluate(loop.Iterable, scope);
        IReadOnlyList<object?> items;
        try
        {
            items = JinjaValues.Iterate(iterable);
        }
        catch (JinjaException e) when (e.Line == 0)
        {
            throw e.At(loop.Iterable.At);
        }
        if (loop.Filter is { } filter)
        {
            items = items.Where(item =>
            {
                var filterScope = new Scope(scope);
                Assign(loop.Targets, item, filterScope);
                return JinjaValues.IsTruthy(Evaluate(filter, filterScope));
            }).ToList();
        }
        if (items.Count == 0)
        {
            if (loop.Otherwise is { } otherwise)
                Execute(otherwise, scope, output);
            return;
        }
        var info = new LoopInfo(items);
        for (var i = 0; i < items.Count; i++)
        {
            info.Index0 = i;
            var iterationScope = new Scope(scope);
            iterationScope.Set("loop", info);
            Assign(loop.Targets, items[i], iterationScope);
            if (Execute(loop.Body, iterationScope, output) == Flow.Break)
                break;
        }
    }

    private static void Assign(IReadOnlyList<string> targets, object? value, Scope scope)
    {
        if (targets.Count == 1)
        {
            scope.Set(targets[0], value);
            return;
        }
        var values = JinjaValues.Iterate(value);
        if (values.Count != targets.Count)
            throw new JinjaException($"cannot unpack {values.Count} value(s) into {targets.Count} variable(s)");
        for (var i = 0; i < targets.Count; i++)
            scope.Set(targets[i], values[i]);
    }

    private string RenderToString(IReadOnlyList<Statement> body, Scope scope)
    {
        var output = new StringBuilder();
        Execute(body, scope, output);
        return output.ToString();
    }

    private JinjaCallable CreateMacro(string name, IReadOnlyList<MacroParameter> parameters, IReadOnlyList<Statement> body, Scope definingScope) =>
        new(name, arguments =>
        {
            if (arguments.Positional.Count > parameters.Count)
                throw new JinjaException($"macro '{name}' takes not more than {parameters.Count} argument(s)");
            var local = new Scope(definingScope);
            for (var i = 0; i < parameters.Count; i++)
            {
                var parameter = parameters[i];
                object? value;
                if (i < arguments.Positional.Count)
                    value = arguments.Positional[i];
                else if (!arguments.Named.TryGetValue(parameter.Name, out value))
                    value = parameter.Default is { } fallback ? Evaluate(fallback, local) : Undefined.Variable(parameter.Name);
                local.Set(parameter.Name, value);
            }
            foreach (var (key, value) in arguments.Named)
            {
                if (key == "caller")
                    local.Set(key, value);
                else if (!parameters.Any(p => p.Name == key))
                    throw new JinjaException($"macro '{name}' takes no keyword argument '{key}'");
            }
            if (++_callDepth > MaxCallDepth)
                throw new JinjaException($"macro '{name}': maximum call depth of {MaxCallDepth} exceeded");
            try
            {
                return RenderToString(body, local);
            }
            finally
            {
                _callDepth--;
            }
        });

    private object? CallWithCaller(CallBlockStatement callBlock, Scope scope)
    {
        var caller = CreateMacro("caller", callBlock.CallerParameters, callBlock.Body, scope);
        var callee = Evaluate(callBlock.Call.Callee, scope);
        var arguments = EvaluateArguments(callBlock.Call.Arguments, scope);
        var named = new Dictionary<string, object?>(arguments.Named) { ["caller"] = caller };
        return Invoke(callee, new CallArguments(arguments.Positional, named));
    }

    private object? Evaluate(Expression expression, Scope scope)
    {
        try
        {
            return EvaluateCore(expression, scope);
        }
        catch (JinjaException e) when (e.Line == 0)
        {
            throw e.At(expression.At);
        }
    }

    private object? EvaluateCore(Expression expression, Scope scope)
    {
        switch (expression)
        {
            case LiteralExpression literal:
                return literal.Value;
            case VariableExpression variable:
                return scope.Lookup(variable.Name);
            case ListExpression list:
                var items = list.Items.Select(item => Evaluate(item, scope));
                return list.IsTuple ? items.ToArray() : items.ToList();
            case DictExpression dict:
                var result = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
                foreach (var (keyExpression, valueExpression) in dict.Entries)
                {
                    var key = Evaluate(keyExpression, scope) as string
                        ?? throw new JinjaException("Only string keys are supported in dict literals");
                    result[key] = Evaluate(valueExpression, scope);
                }
                return result;
            case AttributeExpression attribute:
                return JinjaValues.GetAttribute(Evaluate(attribute.Target, scope), attribute.Name);
            case IndexExpression index:
                return JinjaValues.GetItem(Evaluate(index.Target, scope), Evaluate(index.Key, scope));
            case SliceExpression slice:
                return JinjaValues.Slice(
                    Evaluate(slice.Target, scope),
                    slice.Start is null ? null : Evaluate(slice.Start, scope),
                    slice.Stop is null ? null : Evaluate(slice.Stop, scope),
                    slice.Step is null ? null : Evaluate(slice.Step, scope));
            case CallExpression call:
                return Invoke(Evaluate(call.Callee, scope), EvaluateArguments(call.Arguments, scope));
            case FilterExpression filter:
                return JinjaFilters.Apply(filter.Name, Evaluate(filter.Target, scope), EvaluateArguments(filter.Arguments, scope));
            case TestExpression test:
                var passed = JinjaTests.Apply(test.Name, Evaluate(test.Target, scope), EvaluateArguments(test.Arguments, scope));
                return passed != test.Negated;
            case UnaryExpression unary:
                var operand = Evaluate(unary.Operand, scope);
                return unary.Operator switch
                {
                    "not" => !JinjaValues.IsTruthy(operand),
                    "-" => JinjaValues.Negate(operand),
                    _ => JinjaValues.IsNumber(operand) ? operand : throw new JinjaException($"bad operand type for unary +: '{JinjaValues.TypeName(operand)}'"),
                };
            case BinaryExpression binary:
                return EvaluateBinary(binary, scope);
            case ComparisonExpression comparison:
                return EvaluateComparison(comparison, scope);
            case ConditionalExpression conditional:
                if (JinjaValues.IsTruthy(Evaluate(conditional.Condition, scope)))
                    return Evaluate(conditional.Then, scope);
                return conditional.Otherwise is { } otherwise
                    ? Evaluate(otherwise, scope)
                    : new Undefined("the inline if-expression evaluated to false and no else section was defined.");
            default:
                throw new JinjaException($"Unknown expression {expression.GetType().Name}");
        }
    }

    private object? EvaluateBinary(BinaryExpression binary, Scope scope)
    {
        var left = Evaluate(binary.Left, scope);
        switch (binary.Operator)
        {
            // Python's and/or return an operand, not a bool.
            case "and":
                return JinjaValues.IsTruthy(left) ? Evaluate(binary.Right, scope) : left;
            case "or":
                return JinjaValues.IsTruthy(left) ? left : Evaluate(binary.Right, scope);
            case "~":
                return PythonFormat.Str(left) + PythonFormat.Str(Evaluate(binary.Right, scope));
            default:
                return JinjaValues.Arithmetic(binary.Operator, left, Evaluate(binary.Right, scope));
        }
    }

    private bool EvaluateComparison(ComparisonExpression comparison, Scope scope)
    {
        var left = Evaluate(comparison.First, scope);
        foreach (var (op, rightExpression) in comparison.Rest)
        {
            var right = Evaluate(rightExpression, scope);
            var holds = op switch
            {
                "==" => JinjaValues.AreEqual(left, right),
                "!=" => !JinjaValues.AreEqual(left, right),
                "<" => JinjaValues.Compare(left, right, op) < 0,
                "<=" => JinjaValues.Compare(left, right, op) <= 0,
                ">" => JinjaValues.Compare(left, right, op) > 0,
                ">=" => JinjaValues.Compare(left, right, op) >= 0,
                "in" => JinjaValues.Contains(right, left),
                _ => !JinjaValues.Contains(right, left),
            };
            if (!holds)
                return false;
            left = right;
        }
        return true;
    }

    private CallArguments EvaluateArguments(ArgumentList arguments, Scope scope)
    {
        if (arguments.Positional.Count == 0 && arguments.Named.Count == 0)
            return CallArguments.Empty;
        var positional = arguments.Positional.Select(a => Evaluate(a, scope)).ToList();
        var named = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, value) in arguments.Named)
            named[name] = Evaluate(value, scope);
        return new CallArguments(positional, named);
    }

    private static object? Invoke(object? callee, CallArguments arguments) => callee switch
    {
        JinjaCallable function => function.Invoke(arguments),
        Undefined undefined => throw undefined.Error(),
        _ => throw new JinjaException($"'{JinjaValues.TypeName(callee)}' object is not callable"),
    };
}
