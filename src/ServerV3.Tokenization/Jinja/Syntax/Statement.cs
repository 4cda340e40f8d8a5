namespace ServerV3.Tokenization.Jinja;

/// <summary>
/// Statement syntax tree (text, output and tags), kept together like <see cref="Expression"/>.
/// </summary>
internal abstract record Statement(SourcePosition At);

internal sealed record TextStatement(SourcePosition At, string Text) : Statement(At);

internal sealed record OutputStatement(SourcePosition At, Expression Value) : Statement(At);

internal sealed record IfBranch(Expression Condition, IReadOnlyList<Statement> Body);

internal sealed record IfStatement(SourcePosition At, IReadOnlyList<IfBranch> Branches, IReadOnlyList<Statement>? Otherwise) : Statement(At);

/// <summary><c>for targets in iterable [if filter]</c>; several targets unpack each item.</summary>
internal sealed record ForStatement(
    SourcePosition At,
    IReadOnlyList<string> Targets,
    Expression Iterable,
    Expression? Filter,
    IReadOnlyList<Statement> Body,
    IReadOnlyList<Statement>? Otherwise) : Statement(At);

/// <summary><c>set a = x</c> or <c>set a, b = x</c>.</summary>
internal sealed record SetStatement(SourcePosition At, IReadOnlyList<string> Targets, Expression Value) : Statement(At);

/// <summary><c>set ns.attribute = x</c> on a namespace object.</summary>
internal sealed record SetAttributeStatement(SourcePosition At, string Namespace, string Attribute, Expression Value) : Statement(At);

/// <summary><c>set name</c> ... <c>endset</c>: captures the rendered body.</summary>
internal sealed record SetBlockStatement(SourcePosition At, string Target, IReadOnlyList<Statement> Body) : Statement(At);

internal sealed record MacroParameter(string Name, Expression? Default);

internal sealed record MacroStatement(SourcePosition At, string Name, IReadOnlyList<MacroParameter> Parameters, IReadOnlyList<Statement> Body) : Statement(At);

/// <summary><c>call(params) macro(args)</c> ... <c>endcall</c>: the body becomes the macro's <c>caller()</c>.</summary>
internal sealed record CallBlockStatement(SourcePosition At, CallExpression Call, IReadOnlyList<MacroParameter> CallerParameters, IReadOnlyList<Statement> Body) : Statement(At);

/// <summary>
/// <c>filter name(args)|...</c> ... <c>endfilter</c>: <see cref="Filtered"/> is the filter chain
/// applied to the variable <see cref="BodyVariable"/>, which holds the rendered body.
/// </summary>
internal sealed record FilterBlockStatement(SourcePosition At, Expression Filtered, IReadOnlyList<Statement> Body) : Statement(At)
{
    /// <summary>Not a valid identifier, so no template variable can clash with it.</summary>
    public const string BodyVariable = "(filter body)";
}

internal sealed record BreakStatement(SourcePosition At) : Statement(At);

internal sealed record ContinueStatement(SourcePosition At) : Statement(At);
