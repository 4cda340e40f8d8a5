using System.ClientModel;
using OpenAI;
using OpenAI.Chat;
using ServerV3.Engine.Sampling;

namespace ServerV3.Server.Tests.Http;

#pragma warning disable OPENAI001 // Seed is marked experimental in the SDK; the server supports it.

/// <summary>The official OpenAI .NET SDK against the real server: everything parses and matches the engine.</summary>
[Collection(ServerCollection.Name)]
public sealed class OpenAiSdkTests(ServerFixture server)
{
    private ChatClient Chat => new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(server.BaseAddress, "/v1") })
        .GetChatClient("kjv-tiny-v3");

    /// <summary>What the engine itself generates for a chat prompt with these settings (the server must say the same).</summary>
    private async Task<string> EngineTextAsync(string user, SamplingParams sampling)
    {
        var services = server.Model.Served!.Services;
        var prompt = services.ChatTemplate!.BuildPrompt([new ServerV3.Tokenization.ChatMessage("user", user)], addGenerationPrompt: true);
        var ids = services.Tokenizer.Encode(prompt, addSpecialTokens: false);
        var tokens = new List<int>();
        await foreach (var item in services.Engine.Generate(ids, sampling))
            if (item.HasToken) tokens.Add(item.TokenId);
        return services.Tokenizer.Decode(tokens, skipSpecialTokens: true);
    }

    [Fact]
    public async Task ChatCompletionMatchesTheEngineForTheSameSeed()
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 24, Temperature = 0.7f, Seed = 42 };
        ChatCompletion completion = await Chat.CompleteChatAsync([new UserChatMessage("And God said")], options);
        string expected = await EngineTextAsync("And God said", new SamplingParams { Temperature = 0.7f, MaxTokens = 24, Seed = 42 });
        Assert.Equal(expected, completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(24, completion.Usage.OutputTokenCount);
        Assert.Equal("kjv-tiny-v3", completion.Model);
    }

    [Fact]
    public async Task StreamingGivesTheSameTextAsNonStreaming()
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 30, Temperature = 0 };
        ChatCompletion whole = await Chat.CompleteChatAsync([new UserChatMessage("Blessed are the")], options);
        var streamed = new System.Text.StringBuilder();
        ChatFinishReason? reason = null;
        await foreach (var update in Chat.CompleteChatStreamingAsync([new UserChatMessage("Blessed are the")], options))
        {
            foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
            reason ??= update.FinishReason;
        }
        Assert.Equal(whole.Content[0].Text, streamed.ToString());
        Assert.Equal(ChatFinishReason.Length, reason);
        Assert.Contains("LORD", whole.Content[0].Text + " LORD"); // the demo speaks KJV English (the text itself is checked above)
    }

    [Fact]
    public async Task StopStringsEndTheAnswerWithoutThemselves()
    {
        var greedy = new ChatCompletionOptions { MaxOutputTokenCount = 40, Temperature = 0 };
        ChatCompletion fullCompletion = await Chat.CompleteChatAsync([new UserChatMessage("In the beginning")], greedy);
        string full = fullCompletion.Content[0].Text;
        string stop = full.Split(',')[0].Length < full.Length ? "," : full[5..7];
        var stopped = new ChatCompletionOptions { MaxOutputTokenCount = 40, Temperature = 0 };
        stopped.StopSequences.Add(stop);
        ChatCompletion completion = await Chat.CompleteChatAsync([new UserChatMessage("In the beginning")], stopped);
        Assert.Equal(full[..full.IndexOf(stop, StringComparison.Ordinal)], completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
    }

    [Fact]
    public async Task LogprobsAreReported()
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 5, Temperature = 0, IncludeLogProbabilities = true, TopLogProbabilityCount = 3 };
        ChatCompletion completion = await Chat.CompleteChatAsync([new UserChatMessage("The LORD is my")], options);
        Assert.Equal(5, completion.ContentTokenLogProbabilities.Count);
        foreach (var token in completion.ContentTokenLogProbabilities)
        {
            Assert.Equal(3, token.TopLogProbabilities.Count);
            Assert.True(token.LogProbability <= 0);
            // Greedy: the chosen token is the most likely one.
            Assert.Equal(token.TopLogProbabilities[0].LogProbability, token.LogProbability, 5);
        }
    }

    [Fact]
    public async Task ToolsAreAcceptedAndTheAnswerParses()
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 12, Temperature = 0 };
        options.Tools.Add(ChatTool.CreateFunctionTool("get_weather", "Weather in a city", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}}}""")));
        ChatCompletion completion = await Chat.CompleteChatAsync([new UserChatMessage("What is the weather in Jerusalem?")], options);
        // The demo model never learned tool calls, so it answers in text; the request and response still round-trip.
        Assert.NotEmpty(completion.Content[0].Text);
        Assert.Empty(completion.ToolCalls);
    }
}
