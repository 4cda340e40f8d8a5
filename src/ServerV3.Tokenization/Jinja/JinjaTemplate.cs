namespace ServerV3.Tokenization.Jinja;

/// <summary>
/// A parsed Jinja2 template with Hugging Face's chat-template settings (trim_blocks,
/// lstrip_blocks, loop controls, raise_exception, strftime_now, tojson without HTML escaping).
/// Immutable and safe to render from several threads.
/// </summary>
public sealed class JinjaTemplate
{
    private readonly IReadOnlyList<Statement> _body;

    private JinjaTemplate(IReadOnlyList<Statement> body)
    {
        _body = body;
    }

    /// <summary>Parses a template; unsupported syntax throws <see cref="JinjaException"/> with its position.</summary>
    public static JinjaTemplate Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new JinjaTemplate(JinjaParser.Parse(source));
    }

    /// <summary>
    /// Renders with the given variables. Values may be null, bool, numbers, strings, JsonNode /
    /// JsonElement, dictionaries with string keys and sequences of those.
    /// </summary>
    /// <exception cref="JinjaRaisedException">The template called raise_exception.</exception>
    /// <exception cref="JinjaException">Rendering failed (undefined attribute, type error...).</exception>
    public string Render(IReadOnlyDictionary<string, object?> variables, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var scope = new Scope(JinjaGlobals.CreateScope(clock ?? TimeProvider.System));
        foreach (var (name, value) in variables)
            scope.Set(name, ValueConverter.FromClr(value));
        return TemplateRenderer.Render(_body, scope);
    }
}
