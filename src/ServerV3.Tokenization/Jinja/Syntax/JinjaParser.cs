namespace ServerV3.Tokenization.Jinja;

/// <summary>
/// Recursive-descent parser for the Jinja2 subset used by Hugging Face chat templates, with
/// Jinja2's operator precedence (notably: "~" binds tighter than "+", filters and tests tighter
/// than any binary operator, unary minus tighter than "**").
/// </summary>
internal sealed class JinjaParser
{
    private static readonly HashSet<string> CompareOperators = ["==", "!=", "<", "<=", ">", ">="];
    private static readonly HashSet<string> UnsupportedTags =
        ["include", "import", "from", "extends", "block", "endblock", "raw", "with", "autoescape", "do", "trans", "pluralize"];

    private readonly List<Token> _tokens;
    private int _index;
    private int _loopDepth;

    private JinjaParser(List<Token> tokens)
    {
        _tokens = tokens;
    }

    private Token Current => _tokens[_index];

    public static IReadOnlyList<Statement> Parse(string source)
    {
        var parser = new JinjaParser(JinjaLexer.Tokenize(source));
        var (body, _) = parser.ParseBody(null);
        return body;
    }

    /// <summary>
    /// Parses statements until one of <paramref name="endTags"/> (or the end of the template when
    /// null); returns the body and the tag name found, with the parser just after that name.
    /// </summary>
    private (List<Statement> Body, string? EndTag) ParseBody(Token? opener, params string[]? endTags)
    {
        var body = new List<Statement>();
        while (true)
        {
            var token = Current;
            switch (token.Kind)
            {
                case TokenKind.End:
                    if (opener is { } open && endTags is not null)
                    {
                        throw Error(
                            $"Unexpected end of template: '{open.Text}' opened at line {open.Position.Line} needs {string.Join(" or ", endTags.Select(t => $"'{{% {t} %}}'"))}",
                            token);
                    }
                    return (body, null);
                case TokenKind.Data:
                    _index++;
                    body.Add(new TextStatement(token.Position, token.Text));
                    break;
                case TokenKind.VariableBegin:
                    _index++;
                    body.Add(new OutputStatement(token.Position, ParseTuple(withCondition: true)));
                    Expect(TokenKind.VariableEnd);
                    break;
                case TokenKind.BlockBegin:
                    _index++;
                    var name = Current;
                    if (name.Kind != TokenKind.Name)
                        throw Error($"Expected a tag name, found {name.Describe()}", name);
                    if (endTags is not null && endTags.Contains(name.Text))
                    {
                        _index++;
                        return (body, name.Text);
                    }
                    _index++;
                    ParseTag(name, body);
                    break;
                default:
                    throw Error($"Unexpected {token.Describe()}", token);
            }
        }
    }

    private void ParseTag(Token name, List<Statement> body)
    {
        switch (name.Text)
        {
            case "if":
                body.Add(ParseIf(name));
                break;
            case "for":
                body.Add(ParseFor(name));
                break;
            case "set":
                body.Add(ParseSet(name));
                break;
            case "macro":
                body.Add(ParseMacro(name));
                break;
            case "call":
                body.Add(ParseCallBlock(name));
                break;
            case "filter":
                body.Add(ParseFilterBlock(name));
                break;
            case "break" or "continue":
                if (_loopDepth == 0)
                    throw Error($"'{name.Text}' outside of a loop", name);
                Expect(TokenKind.BlockEnd);
                body.Add(name.Text == "break" ? new BreakStatement(name.Position) : new ContinueStatement(name.Position));
                break;
            case "generation":
                // Hugging Face's marker for assistant-token masks; it only renders its body.
                Expect(TokenKind.BlockEnd);
                var (generated, _) = ParseBody(name, "endgeneration");
                Expect(TokenKind.BlockEnd);
                body.AddRange(generated);
                break;
            case var tag when UnsupportedTags.Contains(tag):
                throw Error($"Unsupported tag '{tag}'", name);
            case var tag when tag.StartsWith("end", StringComparison.Ordinal) || tag is "else" or "elif":
                throw Error($"Unexpected tag '{tag}'", name);
            case var tag:
                throw Error($"Unknown tag '{tag}'", name);
        }
    }

    private IfStatement ParseIf(Token opener)
    {
        var branches = new List<IfBranch>();
        var condition = ParseTuple(withCondition: true);
        while (true)
        {
            Expect(TokenKind.BlockEnd);
            var (body, end) = ParseBody(opener, "elif", "else", "endif");
            branches.Add(new IfBranch(condition, body));
            if (end == "elif")
            {
                condition = ParseTuple(withCondition: true);
                continue;
            }
            List<Statement>? otherwise = null;
            if (end == "else")
            {
                Expect(TokenKind.BlockEnd);
                (otherwise, _) = ParseBody(opener, "endif");
            }
            Expect(TokenKind.BlockEnd);
            return new IfStatement(opener.Position, branches, otherwise);
        }
    }

    private ForStatement ParseFor(Token opener)
    {
        var targets = ParseAssignTargets();
        ExpectName("in");
        var iterable = ParseTuple(withCondition: false);
        Expression? filter = null;
        if (Accept(TokenKind.Name, "if"))
            filter = ParseExpression();
        if (Current.IsName("recursive"))
            throw Error("Unsupported recursive loop", Current);
        Expect(TokenKind.BlockEnd);
        _loopDepth++;
        var (body, end) = ParseBody(opener, "else", "endfor");
        _loopDepth--;
        List<Statement>? otherwise = null;
        if (end == "else")
        {
            Expect(TokenKind.BlockEnd);
            (otherwise, _) = ParseBody(opener, "endfor");
        }
        Expect(TokenKind.BlockEnd);
        return new ForStatement(opener.Position, targets, iterable, filter, body, otherwise);
    }

    private Statement ParseSet(Token opener)
    {
        if (Current.Kind == TokenKind.Name && Peek(1).IsOperator("."))
        {
            var ns = Current.Text;
            _index += 2;
            var attribute = ExpectKind(TokenKind.Name).Text;
            ExpectOperator("=");
            var value = ParseTuple(withCondition: true);
            Expect(TokenKind.BlockEnd);
            return new SetAttributeStatement(opener.Position, ns, attribute, value);
        }
        var targets = ParseAssignTargets();
        if (Accept(TokenKind.Operator, "="))
        {
            var value = ParseTuple(withCondition: true);
            Expect(TokenKind.BlockEnd);
            return new SetStatement(opener.Position, targets, value);
        }
        if (targets.Count != 1)
            throw Error("A block set assigns exactly one name", opener);
        if (Current.IsOperator("|"))
            throw Error("Unsupported filter on a block set", Current);
        Expect(TokenKind.BlockEnd);
        var (body, _) = ParseBody(opener, "endset");
        Expect(TokenKind.BlockEnd);
        return new SetBlockStatement(opener.Position, targets[0], body);
    }

    private MacroStatement ParseMacro(Token opener)
    {
        var name = ExpectKind(TokenKind.Name).Text;
        var parameters = ParseParameters();
        Expect(TokenKind.BlockEnd);
        var loopDepth = _loopDepth;
        _loopDepth = 0;
        var (body, _) = ParseBody(opener, "endmacro");
        _loopDepth = loopDepth;
        Expect(TokenKind.BlockEnd);
        return new MacroStatement(opener.Position, name, parameters, body);
    }

    private CallBlockStatement ParseCallBlock(Token opener)
    {
        var parameters = Current.IsOperator("(") ? ParseParameters() : [];
        var call = ParseExpression() as CallExpression
            ?? throw Error("'call' needs a macro call such as '{% call my_macro() %}'", opener);
        Expect(TokenKind.BlockEnd);
        var (body, _) = ParseBody(opener, "endcall");
        Expect(TokenKind.BlockEnd);
        return new CallBlockStatement(opener.Position, call, parameters, body);
    }

    private FilterBlockStatement ParseFilterBlock(Token opener)
    {
        Expression filtered = new VariableExpression(opener.Position, FilterBlockStatement.BodyVariable);
        do
        {
            filtered = ParseFilter(filtered);
        }
        while (Accept(TokenKind.Operator, "|"));
        Expect(TokenKind.BlockEnd);
        var (body, _) = ParseBody(opener, "endfilter");
        Expect(TokenKind.BlockEnd);
        return new FilterBlockStatement(opener.Position, filtered, body);
    }

    private List<MacroParameter> ParseParameters()
    {
        var parameters = new List<MacroParameter>();
        ExpectOperator("(");
        while (!Accept(TokenKind.Operator, ")"))
        {
            if (parameters.Count > 0)
                ExpectOperator(",");
            if (Accept(TokenKind.Operator, ")"))
                break;
            var name = ExpectKind(TokenKind.Name).Text;
            var defaultValue = Accept(TokenKind.Operator, "=") ? ParseExpression() : null;
            parameters.Add(new MacroParameter(name, defaultValue));
        }
        return parameters;
    }

    // Targets of for and set: "x", "a, b" or "(a, b)".
    private List<string> ParseAssignTargets()
    {
        var parenthesized = Accept(TokenKind.Operator, "(");
        var names = new List<string> { ExpectKind(TokenKind.Name).Text };
        while (Accept(TokenKind.Operator, ","))
        {
            if (Current.Kind != TokenKind.Name)
                break;
            names.Add(ExpectKind(TokenKind.Name).Text);
        }
        if (parenthesized)
            ExpectOperator(")");
        return names;
    }

    /// <summary>An expression or a tuple written without parentheses (<c>a, b</c>).</summary>
    private Expression ParseTuple(bool withCondition)
    {
        var start = Current;
        var items = new List<Expression>();
        var sawComma = false;
        while (true)
        {
            if (items.Count > 0)
            {
                if (!Accept(TokenKind.Operator, ","))
                    break;
                sawComma = true;
                if (IsTupleEnd())
                    break;
            }
            items.Add(withCondition ? ParseExpression() : ParseOr());
        }
        return sawComma ? new ListExpression(start.Position, items, IsTuple: true) : items[0];
    }

    private bool IsTupleEnd() =>
        Current.Kind is TokenKind.VariableEnd or TokenKind.BlockEnd || Current.IsOperator(")") || Current.IsName("in") || Current.IsName("if");

    private Expression ParseExpression()
    {
        var expression = ParseOr();
        while (Current.IsName("if"))
        {
            var at = Current.Position;
            _index++;
            var condition = ParseOr();
            var otherwise = Accept(TokenKind.Name, "else") ? ParseExpression() : null;
            expression = new ConditionalExpression(at, condition, expression, otherwise);
        }
        return expression;
    }

    private Expression ParseOr()
    {
        var left = ParseAnd();
        while (Current.IsName("or"))
        {
            var at = Current.Position;
            _index++;
            left = new BinaryExpression(at, "or", left, ParseAnd());
        }
        return left;
    }

    private Expression ParseAnd()
    {
        var left = ParseNot();
        while (Current.IsName("and"))
        {
            var at = Current.Position;
            _index++;
            left = new BinaryExpression(at, "and", left, ParseNot());
        }
        return left;
    }

    private Expression ParseNot()
    {
        if (!Current.IsName("not"))
            return ParseComparison();
        var at = Current.Position;
        _index++;
        return new UnaryExpression(at, "not", ParseNot());
    }

    private Expression ParseComparison()
    {
        var first = ParseMath1();
        var rest = new List<KeyValuePair<string, Expression>>();
        while (true)
        {
            string op;
            if (Current.Kind == TokenKind.Operator && CompareOperators.Contains(Current.Text))
            {
                op = Current.Text;
                _index++;
            }
            else if (Current.IsName("in"))
            {
                op = "in";
                _index++;
            }
            else if (Current.IsName("not") && Peek(1).IsName("in"))
            {
                op = "not in";
                _index += 2;
            }
            else
            {
                break;
            }
            rest.Add(new(op, ParseMath1()));
        }
        return rest.Count == 0 ? first : new ComparisonExpression(first.At, first, rest);
    }

    private Expression ParseMath1() => ParseBinaryLevel(ParseConcat, "+", "-");

    private Expression ParseConcat() => ParseBinaryLevel(ParseMath2, "~");

    private Expression ParseMath2() => ParseBinaryLevel(ParsePower, "*", "/", "//", "%");

    // Jinja2 reads "**" left-associative and below unary minus: -2 ** 2 == 4.
    private Expression ParsePower() => ParseBinaryLevel(() => ParseUnary(withFilter: true), "**");

    private Expression ParseBinaryLevel(Func<Expression> operand, params string[] operators)
    {
        var left = operand();
        while (Current.Kind == TokenKind.Operator && operators.Contains(Current.Text))
        {
            var op = Current;
            _index++;
            left = new BinaryExpression(op.Position, op.Text, left, operand());
        }
        return left;
    }

    private Expression ParseUnary(bool withFilter)
    {
        Expression node;
        if (Current.IsOperator("-") || Current.IsOperator("+"))
        {
            var op = Current;
            _index++;
            node = new UnaryExpression(op.Position, op.Text, ParseUnary(withFilter: false));
        }
        else
        {
            node = ParsePrimary();
        }
        node = ParsePostfix(node);
        return withFilter ? ParseFilterChain(node) : node;
    }

    private Expression ParsePrimary()
    {
        var token = Current;
        _index++;
        switch (token.Kind)
        {
            case TokenKind.Name:
                return token.Text switch
                {
                    "true" or "True" => new LiteralExpression(token.Position, true),
                    "false" or "False" => new LiteralExpression(token.Position, false),
                    "none" or "None" => new LiteralExpression(token.Position, null),
                    _ => new VariableExpression(token.Position, token.Text),
                };
            case TokenKind.String:
                // Adjacent string literals concatenate, as in Python.
                var text = (string)token.Value!;
                while (Current.Kind == TokenKind.String)
                    text += (string)_tokens[_index++].Value!;
                return new LiteralExpression(token.Position, text);
            case TokenKind.Integer or TokenKind.Float:
                return new LiteralExpression(token.Position, token.Value);
            case TokenKind.Operator when token.Text == "(":
                if (Accept(TokenKind.Operator, ")"))
                    return new ListExpression(token.Position, [], IsTuple: true);
                var inner = ParseTuple(withCondition: true);
                ExpectOperator(")");
                return inner;
            case TokenKind.Operator when token.Text == "[":
                return new ListExpression(token.Position, ParseSequence("]"), IsTuple: false);
            case TokenKind.Operator when token.Text == "{":
                return ParseDict(token);
            default:
                throw Error($"Unexpected {token.Describe()}", token);
        }
    }

    private List<Expression> ParseSequence(string close)
    {
        var items = new List<Expression>();
        while (!Accept(TokenKind.Operator, close))
        {
            if (items.Count > 0)
            {
                ExpectOperator(",");
                if (Accept(TokenKind.Operator, close))
                    break;
            }
            items.Add(ParseExpression());
        }
        return items;
    }

    private DictExpression ParseDict(Token open)
    {
        var entries = new List<KeyValuePair<Expression, Expression>>();
        while (!Accept(TokenKind.Operator, "}"))
        {
            if (entries.Count > 0)
            {
                ExpectOperator(",");
                if (Accept(TokenKind.Operator, "}"))
                    break;
            }
            var key = ParseExpression();
            ExpectOperator(":");
            entries.Add(new(key, ParseExpression()));
        }
        return new DictExpression(open.Position, entries);
    }

    private Expression ParsePostfix(Expression node)
    {
        while (true)
        {
            var token = Current;
            if (token.IsOperator("."))
            {
                _index++;
                var member = Current;
                _index++;
                node = member.Kind switch
                {
                    TokenKind.Name => new AttributeExpression(token.Position, node, member.Text),
                    TokenKind.Integer => new IndexExpression(token.Position, node, new LiteralExpression(member.Position, member.Value)),
                    _ => throw Error($"Expected an attribute name after '.', found {member.Describe()}", member),
                };
            }
            else if (token.IsOperator("["))
            {
                _index++;
                node = ParseSubscript(token, node);
            }
            else if (token.IsOperator("("))
            {
                node = new CallExpression(node.At, node, ParseArguments());
            }
            else
            {
                return node;
            }
        }
    }

    private Expression ParseSubscript(Token open, Expression target)
    {
        var parts = new Expression?[3];
        var part = 0;
        var isSlice = false;
        while (!Accept(TokenKind.Operator, "]"))
        {
            if (Accept(TokenKind.Operator, ":"))
            {
                isSlice = true;
                if (++part > 2)
                    throw Error("A slice takes at most three parts", open);
                continue;
            }
            if (parts[part] is not null)
                throw Error($"Expected ']' or ':', found {Current.Describe()}", Current);
            parts[part] = ParseExpression();
        }
        if (isSlice)
            return new SliceExpression(open.Position, target, parts[0], parts[1], parts[2]);
        return new IndexExpression(open.Position, target, parts[0] ?? throw Error("Empty subscript", open));
    }

    private ArgumentList ParseArguments()
    {
        ExpectOperator("(");
        var positional = new List<Expression>();
        var named = new List<KeyValuePair<string, Expression>>();
        while (!Accept(TokenKind.Operator, ")"))
        {
            if (positional.Count + named.Count > 0)
            {
                ExpectOperator(",");
                if (Accept(TokenKind.Operator, ")"))
                    break;
            }
            if (Current.IsOperator("*") || Current.IsOperator("**"))
                throw Error("Unsupported argument unpacking with '*' or '**'", Current);
            if (Current.Kind == TokenKind.Name && Peek(1).IsOperator("="))
            {
                var name = Current.Text;
                _index += 2;
                named.Add(new(name, ParseExpression()));
                continue;
            }
            if (named.Count > 0)
                throw Error("Positional argument after a keyword argument", Current);
            positional.Add(ParseExpression());
        }
        return new ArgumentList(positional, named);
    }

    private Expression ParseFilterChain(Expression node)
    {
        while (true)
        {
            if (Current.IsOperator("|"))
            {
                do
                {
                    _index++;
                    node = ParseFilter(node);
                }
                while (Current.IsOperator("|"));
            }
            else if (Current.IsName("is"))
            {
                node = ParseTest(node);
            }
            else if (Current.IsOperator("("))
            {
                node = new CallExpression(node.At, node, ParseArguments());
            }
            else
            {
                return node;
            }
        }
    }

    // Parses "name" or "name(args)" after a '|'.
    private FilterExpression ParseFilter(Expression target)
    {
        var name = ExpectKind(TokenKind.Name);
        if (!JinjaFilters.Contains(name.Text))
            throw Error($"No filter named '{name.Text}'", name);
        var arguments = Current.IsOperator("(") ? ParseArguments() : ArgumentList.None;
        return new FilterExpression(name.Position, target, name.Text, arguments);
    }

    private TestExpression ParseTest(Expression target)
    {
        var at = Current.Position;
        _index++;
        var negated = Accept(TokenKind.Name, "not");
        var name = ExpectKind(TokenKind.Name);
        if (!JinjaTests.Contains(name.Text))
            throw Error($"No test named '{name.Text}'", name);
        var arguments = ArgumentList.None;
        if (Current.IsOperator("("))
        {
            arguments = ParseArguments();
        }
        else if ((Current.Kind is TokenKind.Name or TokenKind.String or TokenKind.Integer or TokenKind.Float
                  || Current.IsOperator("[") || Current.IsOperator("{"))
                 && !Current.IsName("else") && !Current.IsName("or") && !Current.IsName("and"))
        {
            // Jinja2 allows one bare argument: "x is divisibleby 3", "x is sameas none".
            if (Current.IsName("is"))
                throw Error("Tests cannot be chained with 'is'", Current);
            arguments = new ArgumentList([ParsePostfix(ParsePrimary())], []);
        }
        return new TestExpression(at, target, name.Text, arguments, negated);
    }

    private Token Peek(int offset) => _tokens[Math.Min(_index + offset, _tokens.Count - 1)];

    private bool Accept(TokenKind kind, string text)
    {
        if (!Current.Is(kind, text))
            return false;
        _index++;
        return true;
    }

    private void Expect(TokenKind kind) => ExpectKind(kind);

    private Token ExpectKind(TokenKind kind)
    {
        var token = Current;
        if (token.Kind != kind)
            throw Error($"Expected {Describe(kind)}, found {token.Describe()}", token);
        _index++;
        return token;
    }

    private void ExpectOperator(string op)
    {
        if (!Accept(TokenKind.Operator, op))
            throw Error($"Expected '{op}', found {Current.Describe()}", Current);
    }

    private void ExpectName(string name)
    {
        if (!Accept(TokenKind.Name, name))
            throw Error($"Expected '{name}', found {Current.Describe()}", Current);
    }

    private static string Describe(TokenKind kind) => kind switch
    {
        TokenKind.VariableEnd => "end of expression '}}'",
        TokenKind.BlockEnd => "end of tag '%}'",
        TokenKind.Name => "a name",
        _ => kind.ToString(),
    };

    private static JinjaException Error(string reason, Token at) => new(reason, at.Position.Line, at.Position.Column);
}
