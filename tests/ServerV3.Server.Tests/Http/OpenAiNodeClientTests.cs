using System.Diagnostics;
using System.Text.Json;
using ServerV3.Tests;

namespace ServerV3.Server.Tests.Http;

/// <summary>
/// The official `openai` npm client against the real server (tests/ServerV3.Server.Tests/npm/client.mjs; .ci/run
/// installs the package). Texts are checked against the .NET side's own requests for the same settings.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class OpenAiNodeClientTests(ServerFixture server)
{
    [Fact]
    public async Task TheNodeClientParsesEveryResponse()
    {
        string directory = Path.Combine(RepositoryPaths.Root, "tests", "ServerV3.Server.Tests", "npm");
        Assert.True(Directory.Exists(Path.Combine(directory, "node_modules", "openai")), "run `npm ci` in tests/ServerV3.Server.Tests/npm (.ci/run does)");
        using var node = Process.Start(new ProcessStartInfo("node", ["client.mjs", server.BaseAddress.ToString()])
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        string output = await node.StandardOutput.ReadToEndAsync();
        string errors = await node.StandardError.ReadToEndAsync();
        await node.WaitForExitAsync();
        Assert.True(node.ExitCode == 0, errors);
        var results = JsonDocument.Parse(output).RootElement;

        var chat = results.GetProperty("chat");
        Assert.Equal(2, chat.GetProperty("texts").GetArrayLength());
        Assert.Equal(40, chat.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        // Seeded: the stream equals the first choice of the same request made whole.
        var stream = results.GetProperty("chatStream");
        Assert.Equal(chat.GetProperty("texts")[0].GetString(), stream.GetProperty("text").GetString());
        Assert.Equal("length", stream.GetProperty("finish").GetString());
        Assert.Equal(20, stream.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        Assert.Equal("stop", results.GetProperty("stop").GetProperty("finish").GetString());
        Assert.DoesNotContain(",", results.GetProperty("stop").GetProperty("text").GetString());
        Assert.Equal(3, results.GetProperty("logprobs").GetArrayLength());
        Assert.All(results.GetProperty("logprobs").EnumerateArray(), t => Assert.Equal(2, t.GetProperty("top").GetInt32()));
        Assert.Equal("length", results.GetProperty("tools").GetProperty("finish").GetString());

        string completion = results.GetProperty("completion").GetProperty("text").GetString()!;
        Assert.Equal(completion, results.GetProperty("completionStream").GetProperty("text").GetString());
        var raw = await server.Http.PostAsync("/v1/completions", new StringContent("""{"prompt":"In the beginning","max_tokens":12,"temperature":0}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(completion, JsonDocument.Parse(await raw.Content.ReadAsStringAsync()).RootElement.GetProperty("choices")[0].GetProperty("text").GetString());

        Assert.Equal(404, results.GetProperty("error").GetProperty("status").GetInt32());
    }
}
