using System.Text.Json.Nodes;
using ServerV3.Tokenization.Jinja;

namespace ServerV3.Tokenization.Tests.Jinja;

public sealed class JinjaRenderTests
{
    /// <summary>
    /// Expected outputs were produced by Python Jinja2 3.1 with Hugging Face's chat-template
    /// environment (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols,
    /// tojson as json.dumps(ensure_ascii=False)).
    /// </summary>
    [Theory]
    [InlineData("{{ 'a' ~ 1 ~ none ~ true }}", "{}", "a1NoneTrue")]
    [InlineData("{{ none }}|{{ true }}|{{ false }}|{{ 42 }}|{{ 1.5 }}|{{ 'x' }}", "{}", "None|True|False|42|1.5|x")]
    [InlineData("{{ [1, 'a', none, true, 1.5] }}|{{ {'a': 1, 'b': [2]} }}|{{ ('x', 1) }}|{{ (1,) }}", "{}", "[1, 'a', None, True, 1.5]|{'a': 1, 'b': [2]}|('x', 1)|(1,)")]
    [InlineData("{{ \"it's\" }}|{{ [\"it's\", 'q\"', 'a\\nb'] }}", "{}", "it's|[\"it's\", 'q\"', 'a\\nb']")]
    [InlineData("{{ 'a' 'b' }}|{{ \"\\t\\u00e9\\x41\" }}", "{}", "ab|\t\u00e9A")]
    [InlineData("{{ x }}|{{ x is defined }}|{{ y is undefined }}|{{ x.a }}", "{\"x\": {\"a\": 1}}", "{'a': 1}|True|True|1")]
    [InlineData("[{{ missing }}]", "{}", "[]")]
    [InlineData("{{ 1 + 2 * 3 }}|{{ (1 + 2) * 3 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ -7 % 3 }}|{{ 10 / 4 }}|{{ 2 ** 10 }}|{{ -2 ** 2 }}|{{ 2 ** -1 }}", "{}", "7|9|3|-4|2|2.5|1024|4|0.5")]
    [InlineData("{{ 1.0 }}|{{ 1e20 }}|{{ 0.1 + 0.2 }}|{{ 1e-5 }}|{{ 3.0 * 2 }}|{{ 2.5e16 }}|{{ 1/3 }}|{{ 1e16 }}|{{ 1e15 }}|{{ 0.0001 }}|{{ 123.456 }}|{{ -0.5 }}", "{}", "1.0|1e+20|0.30000000000000004|1e-05|6.0|2.5e+16|0.3333333333333333|1e+16|1000000000000000.0|0.0001|123.456|-0.5")]
    [InlineData("{{ 'ab' * 2 }}|{{ [1] + [2] }}|{{ 'a' + 'b' }}|{{ 1 ~ 2 }}|{{ -x }}|{{ 7.5 // 2 }}|{{ -7.5 % 2 }}", "{\"x\": 3}", "abab|[1, 2]|ab|12|-3|3.0|0.5")]
    [InlineData("{{ 1 < 2 < 3 }}{{ 3 < 2 < 4 }}{{ 'a' in 'cat' }}{{ 2 not in [1] }}{{ 'k' in {'k': 1} }}{{ not 1 == 2 }}{{ 1 == 1.0 }}{{ [1, 2] == [1, 2] }}{{ 'a' < 'b' }}{{ 2 >= 2 }}{{ 1 != 1 }}", "{}", "TrueFalseTrueTrueTrueTrueTrueTrueTrueTrueFalse")]
    [InlineData("{{ 0 or 'x' }}|{{ 1 and 'y' }}|{{ '' or [] }}|{{ none and 1 }}|{{ 'a' if x else 'b' }}|{{ 'a' if not x else 'b' }}|{{ 'c' if false }}|", "{\"x\": true}", "x|y|[]|None|a|b||")]
    [InlineData("{% if x == 1 %}one{% elif x == 2 %}two{% else %}many{% endif %}", "{\"x\": 2}", "two")]
    [InlineData("{% if x == 1 %}one{% elif x == 2 %}two{% else %}many{% endif %}", "{\"x\": 5}", "many")]
    [InlineData("{% for i in items %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }};{% endfor %}", "{\"items\": [\"a\", \"b\", \"c\"]}", "10TrueFalse33;21FalseFalse32;32FalseTrue31;")]
    [InlineData("{% for i in range(6) if i is odd %}{{ i }}:{{ loop.index }}/{{ loop.length }} {% endfor %}", "{}", "1:1/3 3:2/3 5:3/3 ")]
    [InlineData("{% for i in [] %}x{% else %}empty{% endfor %}|{% for i in missing %}x{% else %}undefined is empty{% endfor %}", "{}", "empty|undefined is empty")]
    [InlineData("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}|{% for k in d %}{{ k }}{% endfor %}|{% for (a, b) in [[1, 2]] %}{{ a + b }}{% endfor %}", "{\"d\": {\"p\": 1, \"q\": 2}}", "p=1;q=2;|pq|3")]
    [InlineData("{% for m in [1, 2, 3, 4] %}{% if m == 2 %}{% continue %}{% endif %}{% if m == 4 %}{% break %}{% endif %}{{ m }}{% endfor %}", "{}", "13")]
    [InlineData("{% for i in [1, 2] %}{% for j in 'ab' %}{{ loop.index }}{{ j }}{% endfor %}{{ loop.index }}|{% endfor %}", "{}", "1a2b1|1a2b2|")]
    [InlineData("{% for x in xs %}{{ loop.previtem }}>{{ x }}>{{ loop.nextitem }} {{ loop.cycle('odd', 'even') }};{% endfor %}", "{\"xs\": [1, 2, 3]}", ">1>2 odd;1>2>3 even;2>3> odd;")]
    [InlineData("{% set x = 5 %}{% for i in [1] %}{{ x }}{% set x = 7 %}{{ x }}{% endfor %}{{ x }}", "{}", "575")]
    [InlineData("{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c = [3, 4] %}{{ c[0] }}", "{}", "123")]
    [InlineData("{% set ns = namespace(total=0, names='') %}{% for i in [1, 2, 3] %}{% set ns.total = ns.total + i %}{% set ns.names = ns.names ~ i %}{% endfor %}{{ ns.total }} {{ ns.names }} {{ ns }}", "{}", "6 123 <Namespace {'total': 6, 'names': '123'}>")]
    [InlineData("{% set greeting %}Hello {{ name }}!{% endset %}[{{ greeting|upper }}]", "{\"name\": \"Ann\"}", "[HELLO ANN!]")]
    [InlineData("{% if not flag is defined %}{% set flag = false %}{% endif %}{{ flag }}", "{}", "False")]
    [InlineData("{% macro tag(name, value='d') %}<{{ name }}={{ value }}>{% endmacro %}{{ tag('a') }}{{ tag('b', 2) }}{{ tag('c', value=3) }}", "{}", "<a=d><b=2><c=3>")]
    [InlineData("{% macro box() %}[{{ caller() }}]{% endmacro %}{% call box() %}inside{% endcall %}", "{}", "[inside]")]
    [InlineData("{% macro row(x) %}({{ caller(x * 2) }}){% endmacro %}{% call(v) row(4) %}v={{ v }}{% endcall %}", "{}", "(v=8)")]
    [InlineData("{% macro outer() %}{{ prefix }}{% endmacro %}{% set prefix = '>' %}{{ outer() }}", "{}", ">")]
    [InlineData("{{ '  a b  '|trim }}|{{ 'xxaxx'|trim('x') }}|{{ [1, 2, 3]|length }}|{{ 'h\u00e9llo'|length }}|{{ {'a': 1}|length }}|{{ 'ab'|upper }}|{{ 'AB'|lower }}|{{ 'hello world'|title }}|{{ 'hELLO'|capitalize }}", "{}", "a b|a|3|5|1|AB|ab|Hello World|Hello")]
    [InlineData("{{ [1, 2]|first }}|{{ [1, 2]|last }}|{{ 'abc'|first }}|{{ ['a', 'b']|join(', ') }}|{{ [1, 2]|join }}|{{ x|default('d') }}|{{ ''|default('d', true) }}|{{ ''|default('d') }}|{{ 42|string }}", "{}", "1|2|a|a, b|12|d|d||42")]
    [InlineData("{{ {'x': 1, 'y': 2}|items|list }}|{{ 'abc'|list }}|{{ 'a-b'|replace('-', '+') }}|{{ 'aaa'|replace('a', 'b', 2) }}|{{ [3, 1, 2]|sort }}|{{ ['b', 'A', 'c']|sort }}|{{ [3, 1, 2]|sort(reverse=true) }}", "{}", "[('x', 1), ('y', 2)]|['a', 'b', 'c']|a+b|bba|[1, 2, 3]|['A', 'b', 'c']|[3, 2, 1]")]
    [InlineData("{{ msgs|selectattr('role', 'equalto', 'user')|map(attribute='content')|join(',') }}|{{ msgs|rejectattr('role', 'equalto', 'user')|map(attribute='content')|list }}|{{ msgs|selectattr('tool')|list|length }}|{{ msgs|map(attribute='missing', default='-')|join }}", "{\"msgs\": [{\"role\": \"user\", \"content\": \"u1\"}, {\"role\": \"assistant\", \"content\": \"a1\", \"tool\": true}, {\"role\": \"user\", \"content\": \"u2\"}]}", "u1,u2|['a1']|1|---")]
    [InlineData("{{ ['A', 'b']|map('lower')|join }}|{{ [1, 2, 3, 4]|select('even')|list }}|{{ [1, 2, 3, 4]|reject('even')|list }}|{{ [0, 1, '', 'a']|select|list }}|{{ [1, 1, 2, 'a', 'A']|unique|list }}|{{ [1, 2]|reverse|list }}|{{ 'abc'|reverse }}", "{}", "ab|[2, 4]|[1, 3]|[1, 'a']|[1, 2, 'a']|[2, 1]|cba")]
    [InlineData("{{ [1, 2, 3]|sum }}|{{ [3, 1]|min }}|{{ [3, 1]|max }}|{{ '3'|int + 1 }}|{{ 'x'|int }}|{{ '4.7'|int }}|{{ 3.9|int }}|{{ '2.5'|float }}|{{ 2.567|round(2) }}|{{ 2.5|round }}|{{ 3|round }}|{{ 2.1|round(0, 'ceil') }}|{{ -3|abs }}", "{}", "6|1|3|4|0|4|3|2.5|2.57|2.0|3|3.0|3")]
    [InlineData("{{ 'a\nb\n\nc'|indent(2) }}|{{ 'a\nb'|indent(2, true) }}|{{ 'x'|safe }}|{{ d|tojson }}", "{\"d\": {\"a\": \"\u00fc\", \"b\": [1, 2.5, null, true], \"c\": {}}}", "a\n  b\n\n  c|  a\n  b|x|{\"a\": \"\u00fc\", \"b\": [1, 2.5, null, true], \"c\": {}}")]
    [InlineData("{{ d|tojson(indent=2) }}|{{ d|tojson(sort_keys=true) }}|{{ '\u00e9\U0001f600\n'|tojson(ensure_ascii=true) }}|{{ {'a': none}|tojson(separators=(',', ':')) }}|{{ 'q\"\\\\'|tojson }}", "{\"d\": {\"z\": {\"b\": []}, \"a\": [1, {\"c\": 3.0}]}}", "{\n  \"z\": {\n    \"b\": []\n  },\n  \"a\": [\n    1,\n    {\n      \"c\": 3.0\n    }\n  ]\n}|{\"a\": [1, {\"c\": 3.0}], \"z\": {\"b\": []}}|\"\\u00e9\\ud83d\\ude00\\n\"|{\"a\":null}|\"q\\\"\\\\\"")]
    [InlineData("{% filter upper %}shout {{ x }}{% endfilter %}", "{\"x\": \"this\"}", "SHOUT THIS")]
    [InlineData("{{ x is string }}{{ x is mapping }}{{ x is iterable }}{{ 3 is iterable }}{{ d is mapping }}{{ n is none }}{{ n is not none }}{{ 3 is number }}{{ 3 is integer }}{{ 3.0 is float }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ 'a' is in 'abc' }}{{ true is boolean }}{{ l is sequence }}{{ 'ab' is lower }}", "{\"x\": \"s\", \"d\": {}, \"n\": null, \"l\": [1]}", "TrueFalseTrueFalseTrueTrueFalseTrueTrueTrueTrueTrueTrueTrueTrueTrue")]
    [InlineData("{{ x is eq 1 }}{{ x is ne 1 }}{{ x is gt 0 }}{{ x is lt 0 }}{{ x is ge 1 }}{{ x is le 0 }}{{ range is callable }}{{ none is sameas none }}", "{\"x\": 1}", "TrueFalseTrueFalseTrueFalseTrueTrue")]
    [InlineData("{{ 'Hello'.startswith('He') }}{{ 'x'.endswith(('y', 'x')) }}|{{ 'a b  c'.split() }}|{{ 'a-b-c'.split('-', 1) }}|{{ ' x '.lstrip() }}|{{ ' x '.rstrip() }}|{{ ' x '.strip() }}|{{ 'abc'.replace('b', 'X') }}|{{ 'ab'.upper() }}{{ 'AB'.lower() }}|{{ 'one two'.title() }}|{{ 'abcb'.find('b') }}{{ 'abcb'.count('b') }}|{{ '-'.join(['a', 'b']) }}|{{ 'a\nb\n'.splitlines() }}", "{}", "TrueTrue|['a', 'b', 'c']|['a', 'b-c']|x | x|x|aXc|ABab|One Two|12|a-b|['a', 'b']")]
    [InlineData("{{ d.get('a') }}|{{ d.get('z', 9) }}|{{ d.get('z') }}|{{ d.keys()|list }}|{{ d.values()|list }}|{{ d['a'] }}|{{ d.a }}|{{ d.items()|list }}", "{\"d\": {\"a\": 1, \"b\": 2}}", "1|9|None|['a', 'b']|[1, 2]|1|1|[('a', 1), ('b', 2)]")]
    [InlineData("{{ 'abcdef'[1:3] }}|{{ 'abc'[-1] }}|{{ l[1:] }}|{{ l[:-1] }}|{{ l[::-1] }}|{{ l[::2] }}|{{ l[-1] }}|{{ l.0 }}|{{ l[5] is defined }}|{{ m[1:][0].role }}", "{\"l\": [1, 2, 3, 4], \"m\": [{\"role\": \"system\"}, {\"role\": \"user\"}]}", "bc|c|[2, 3, 4]|[1, 2, 3]|[4, 3, 2, 1]|[1, 3]|4|1|False|user")]
    [InlineData("{% if true %}\n  yes\n{% endif %}\n  {% if true %}\n  indented\n  {% endif %}\n{{ 'v' }}\n  {# comment #}\nline\n{%- if true -%}\n   trimmed\n{%+ if true %}x{% endif %}\n{% endif %}\nend", "{}", "  yes\n  indented\nv\nlinetrimmed\nxend")]
    [InlineData("a  {{- ' b ' -}}  c\n{{ 'd' }}\ne", "{}", "a b c\nd\ne")]
    [InlineData("{% for x in [1, 2] %}\n    {{ x }}\n{% endfor %}\n", "{}", "    1\n    2\n")]
    [InlineData("  {%- if true %} x {% endif -%}  \n  y\n", "{}", " x y")]
    [InlineData("{# one #}\n{#- two -#}\n  after\n  {#+ kept #}\nz", "{}", "after\n  z")]
    [InlineData("line1\r\nline2\r\n{% if true %}\r\nline3\r\n{% endif %}\r\n", "{}", "line1\nline2\nline3\n")]
    [InlineData("{{ 'done' }}{{ raise_exception('unused') if false }}", "{}", "done")]
    public void Renders_like_jinja2(string template, string variablesJson, string expected)
    {
        Assert.Equal(expected, Render(template, variablesJson));
    }

    [Fact]
    public void Generation_block_renders_its_body()
    {
        Assert.Equal("a gen1 b", Render("a {% generation %}gen{{ 1 }}{% endgeneration %} b"));
    }

    [Fact]
    public void Strftime_now_formats_the_clock_time()
    {
        var clock = new FixedClock(new DateTimeOffset(2025, 3, 7, 14, 5, 9, TimeSpan.Zero));

        var rendered = JinjaTemplate.Parse("{{ strftime_now('%d %b %Y %H:%M:%S %A %%') }}")
            .Render(new Dictionary<string, object?>(), clock);

        Assert.Equal("07 Mar 2025 14:05:09 Friday %", rendered);
    }

    [Fact]
    public void Clr_values_are_accepted_as_variables()
    {
        var variables = new Dictionary<string, object?>
        {
            ["n"] = 3,
            ["f"] = 0.5f,
            ["items"] = new[] { "a", "b" },
            ["map"] = new Dictionary<string, object?> { ["k"] = new List<object?> { 1L, null } },
        };

        var rendered = JinjaTemplate.Parse("{{ n + 1 }} {{ f }} {{ items|join('+') }} {{ map|tojson }}").Render(variables);

        Assert.Equal("4 0.5 a+b {\"k\": [1, null]}", rendered);
    }

    [Fact]
    public void Json_numbers_keep_python_int_and_float_types()
    {
        Assert.Equal("1 1.0 1000.0 <class>", Render("{{ a }} {{ b }} {{ c }} <class>", """{"a": 1, "b": 1.0, "c": 1e3}"""));
    }

    [Fact]
    public void Template_is_reusable_across_renders()
    {
        var template = JinjaTemplate.Parse("{% set ns = namespace(n=0) %}{% for x in xs %}{% set ns.n = ns.n + x %}{% endfor %}{{ ns.n }}");

        Assert.Equal("3", template.Render(Variables("""{"xs": [1, 2]}""")));
        Assert.Equal("10", template.Render(Variables("""{"xs": [10]}""")));
    }

    private static string Render(string template, string variablesJson = "{}") =>
        JinjaTemplate.Parse(template).Render(Variables(variablesJson));

    private static Dictionary<string, object?> Variables(string json) =>
        JsonNode.Parse(json)!.AsObject().ToDictionary(e => e.Key, e => (object?)e.Value?.DeepClone());

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;

        public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
    }
}
