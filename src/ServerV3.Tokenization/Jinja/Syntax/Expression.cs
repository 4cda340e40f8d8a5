namespace ServerV3.Tokenization.Jinja;

/// <summary>
/// Expression syntax tree. The node types are small records kept together here so the grammar
/// reads in one place; the renderer evaluates them with a type switch.
/// </summary>
internal abstract record Expression(SourcePosition At);

/// <summary>Positional and keyword arguments of a call, filter or test.</summary>
internal sealed record ArgumentList(IReadOnlyList<Expression> Positional, IReadOnlyList<KeyValuePair<string, Expression>> Named)
{
    public static ArgumentList None { get; } = new([], []);
}

internal sealed record LiteralExpression(SourcePosition At, object? Value) : Expression(At);

internal sealed record VariableExpression(SourcePosition At, string Name) : Expression(At);

internal sealed record ListExpression(SourcePosition At, IReadOnlyList<Expression> Items, bool IsTuple) : Expression(At);

internal sealed record DictExpression(SourcePosition At, IReadOnlyList<KeyValuePair<Expression, Expression>> Entries) : Expression(At);

/// <summary><c>target.name</c>: Jinja2 looks up a method or attribute first, then an item.</summary>
internal sealed record AttributeExpression(SourcePosition At, Expression Target, string Name) : Expression(At);

/// <summary><c>target[key]</c>: Jinja2 looks up an item first, then an attribute.</summary>
internal sealed record IndexExpression(SourcePosition At, Expression Target, Expression Key) : Expression(At);

internal sealed record SliceExpression(SourcePosition At, Expression Target, Expression? Start, Expression? Stop, Expression? Step) : Expression(At);

internal sealed record CallExpression(SourcePosition At, Expression Callee, ArgumentList Arguments) : Expression(At);

internal sealed record FilterExpression(SourcePosition At, Expression Target, string Name, ArgumentList Arguments) : Expression(At);

internal sealed record TestExpression(SourcePosition At, Expression Target, string Name, ArgumentList Arguments, bool Negated) : Expression(At);

/// <summary>Operators "not", "-" and "+".</summary>
internal sealed record UnaryExpression(SourcePosition At, string Operator, Expression Operand) : Expression(At);

/// <summary>Arithmetic, "~", "and" and "or".</summary>
internal sealed record BinaryExpression(SourcePosition At, string Operator, Expression Left, Expression Right) : Expression(At);

/// <summary>A chain such as <c>a &lt; b &lt;= c</c>; operators include "in" and "not in".</summary>
internal sealed record ComparisonExpression(SourcePosition At, Expression First, IReadOnlyList<KeyValuePair<string, Expression>> Rest) : Expression(At);

/// <summary><c>then if condition else otherwise</c>; without else a false condition gives undefined.</summary>
internal sealed record ConditionalExpression(SourcePosition At, Expression Condition, Expression Then, Expression? Otherwise) : Expression(At);
