using System.Text.Json.Nodes;
using ServerV3.Tokenization.Jinja;

namespace ServerV3.Tokenization.Tests;

public sealed class ChatPromptBuilderTests
{
    // Shaped like the tool sections of Qwen/Llama chat templates.
    private const string ToolTemplate = """
        {%- if tools %}
        {{- bos_token }}Tools:
        {% for tool in tools %}
        {{ tool | tojson }}
        {% endfor %}
        {%- endif %}
        {%- for message in messages %}
        {%- if message.tool_calls is defined %}
        {%- for call in message.tool_calls %}
        <call id={{ call.id }} type={{ call.type }}>{{ call.function.name }}({{ call.function.arguments }})</call>
        {% endfor %}
        {%- elif message.role == 'tool' %}
        <result for={{ message.tool_call_id }} name={{ message.name }}>{{ message.content }}</result>
        {% else %}
        [{{ message.role }}] {{ message.content }}
        {% endif %}
        {%- endfor %}
        {%- if add_generation_prompt %}[assistant]{% endif %}
        {{- eos_token if not add_generation_prompt }}
        """;

    [Fact]
    public void Tools_and_tool_messages_reach_the_template()
    {
        var builder = new ChatPromptBuilder(ToolTemplate, "<s>", "</s>");
        var tool = JsonNode.Parse("""{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "Ville, ex. Zürich"}}, "required": ["city"]}}}""")!;

        var prompt = builder.BuildPrompt(
            [
                new ChatMessage("user", "Weather in Zürich?"),
                new ChatMessage("assistant", null) { ToolCalls = [new ChatToolCall("get_weather", """{"city": "Zürich"}""") { Id = "call_1" }] },
                new ChatMessage("tool", "12°C") { ToolCallId = "call_1", Name = "get_weather" },
            ],
            tools: [tool]);

        Assert.Equal(
            "<s>Tools:\n"
            + """{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "Ville, ex. Zürich"}}, "required": ["city"]}}}""" + "\n"
            + "[user] Weather in Zürich?\n"
            + """<call id=call_1 type=function>get_weather({"city": "Zürich"})</call>""" + "\n"
            + "<result for=call_1 name=get_weather>12°C</result>\n"
            + "[assistant]",
            prompt);
    }

    [Fact]
    public void Without_generation_prompt_the_template_sees_false()
    {
        var builder = new ChatPromptBuilder(ToolTemplate, "<s>", "</s>");

        var prompt = builder.BuildPrompt([new ChatMessage("user", "Hi")], addGenerationPrompt: false);

        Assert.Equal("[user] Hi\n</s>", prompt);
    }

    [Fact]
    public void Extra_variables_are_visible_but_cannot_replace_the_standard_ones()
    {
        var builder = new ChatPromptBuilder("{{ thinking }} {{ add_generation_prompt }} {{ tools }}", null, null);

        var prompt = builder.BuildPrompt([], extraVariables: new Dictionary<string, object?> { ["thinking"] = true, ["add_generation_prompt"] = "x" });

        Assert.Equal("True True None", prompt);
    }

    [Fact]
    public void Invalid_template_fails_when_the_builder_is_made()
    {
        Assert.Throws<JinjaException>(() => new ChatPromptBuilder("{% for m in messages %}", null, null));
    }
}
