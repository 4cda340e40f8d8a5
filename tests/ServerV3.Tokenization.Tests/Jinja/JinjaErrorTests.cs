using ServerV3.Tokenization.Jinja;

namespace ServerV3.Tokenization.Tests.Jinja;

public sealed class JinjaErrorTests
{
    [Theory]
    [InlineData("{% include 'other.j2' %}", "Unsupported tag 'include'", 1, 4)]
    [InlineData("{% extends 'base' %}", "Unsupported tag 'extends'", 1, 4)]
    [InlineData("{% import 'macros' as m %}", "Unsupported tag 'import'", 1, 4)]
    [InlineData("ok\n{% raw %}{{ x }}{% endraw %}", "Unsupported tag 'raw'", 2, 4)]
    [InlineData("{% for x in xs recursive %}{% endfor %}", "Unsupported recursive loop", 1, 16)]
    [InlineData("{% frobnicate %}", "Unknown tag 'frobnicate'", 1, 4)]
    [InlineData("{% endif %}", "Unexpected tag 'endif'", 1, 4)]
    [InlineData("{{ x|shuffle }}", "No filter named 'shuffle'", 1, 6)]
    [InlineData("{{ x is prime }}", "No test named 'prime'", 1, 9)]
    [InlineData("{{ f(*args) }}", "Unsupported argument unpacking with '*' or '**'", 1, 6)]
    [InlineData("{% break %}", "'break' outside of a loop", 1, 4)]
    [InlineData("{{ 'abc }}", "Unterminated string literal", 1, 4)]
    [InlineData("{{ a $ b }}", "Unexpected character '$'", 1, 6)]
    [InlineData("{# never closed", "Missing end of comment tag", 1, 1)]
    [InlineData("{{ (1, 2 }}", "Unexpected '}', expected ')'", 1, 10)]
    [InlineData("{{ x] }}", "Unexpected ']'", 1, 5)]
    [InlineData("a\n  {% if x %}\n  b", "Unexpected end of template: 'if' opened at line 2 needs '{% elif %}' or '{% else %}' or '{% endif %}'", 3, 4)]
    [InlineData("{% for x in xs %}{% endif %}", "Unexpected tag 'endif'", 1, 21)]
    public void Unsupported_or_invalid_syntax_is_reported_with_its_position(string template, string reason, int line, int column)
    {
        var error = Assert.Throws<JinjaException>(() => JinjaTemplate.Parse(template));

        Assert.Equal(reason, error.Reason);
        Assert.Equal((line, column), (error.Line, error.Column));
        Assert.Equal($"{reason} (line {line}, column {column})", error.Message);
    }

    [Theory]
    [InlineData("{{ missing.attribute }}", "'missing' is undefined", 1, 11)]
    [InlineData("\n{{ message.tool_calls.x }}", "'dict object' has no attribute 'tool_calls'", 2, 22)]
    [InlineData("{{ 1 + 'a' }}", "unsupported operand type(s) for +: 'int' and 'str'", 1, 6)]
    [InlineData("{{ 1 / 0 }}", "division by zero", 1, 6)]
    [InlineData("{{ 'a' < 1 }}", "'<' not supported between instances of 'str' and 'int'", 1, 4)]
    [InlineData("{% for x in 5 %}{% endfor %}", "'int' object is not iterable", 1, 13)]
    [InlineData("{% set x = 1 %}{% set x.y = 2 %}", "Cannot assign attribute 'y' on 'x': not a namespace object", 1, 19)]
    [InlineData("{{ 'a'.nope() }}", "'str object' has no attribute 'nope'", 1, 7)]
    [InlineData("{{ x() }}", "'x' is undefined", 1, 4)]
    [InlineData("{{ range(200000)|length }}", "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).", 1, 4)]
    [InlineData("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "macro 'm': maximum call depth of 64 exceeded", 1, 19)]
    [InlineData("{{ {'a': 1}|join(sep=',') }}", "join() got an unexpected keyword argument 'sep'", 1, 13)]
    public void Runtime_errors_carry_the_innermost_position(string template, string reason, int line, int column)
    {
        var parsed = JinjaTemplate.Parse(template);

        var error = Assert.Throws<JinjaException>(() => parsed.Render(new Dictionary<string, object?> { ["message"] = new Dictionary<string, object?>() }));

        Assert.Equal(reason, error.Reason);
        Assert.Equal((line, column), (error.Line, error.Column));
    }

    [Fact]
    public void Raise_exception_reports_the_template_message()
    {
        var template = JinjaTemplate.Parse("{% if messages[0].role != 'user' %}{{ raise_exception('Conversation roles must alternate') }}{% endif %}");

        var error = Assert.Throws<JinjaRaisedException>(() =>
            template.Render(new Dictionary<string, object?> { ["messages"] = new[] { new Dictionary<string, object?> { ["role"] = "assistant" } } }));

        Assert.Equal("Conversation roles must alternate", error.Reason);
        Assert.Equal(1, error.Line);
    }

    [Fact]
    public void Unconvertible_variables_are_rejected()
    {
        var template = JinjaTemplate.Parse("{{ x }}");

        Assert.Throws<ArgumentException>(() => template.Render(new Dictionary<string, object?> { ["x"] = new Uri("http://localhost") }));
    }
}
