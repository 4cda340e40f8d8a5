using System.Text.Json;
using ServerV3.Engine.ModelLoading;
using ServerV3.Server.Cli;
using ServerV3.Tests;

namespace ServerV3.Server.Tests.Cli;

/// <summary>`serverv3 logits` end to end: the golden checks through the command line, and misuse exits with code 2.</summary>
public sealed class LogitsCommandTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("serverv3-cli-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Theory]
    [InlineData("tiny-v3")]
    [InlineData("tiny-v3-fp8")]
    public void WritesGoldenLogitsMtpLogitsAndGreedyTokens(string model)
    {
        var golden = new GoldenData(model);
        var prompts = Enumerable.Range(0, golden.NumPrompts).Select(golden.Prompt).ToArray();
        string tokens = Write("tokens.json", JsonSerializer.Serialize(new { prompts }));
        string output = Path.Combine(directory, "out.safetensors");

        var (code, _, error) = Run("logits", "--model", golden.ModelDirectory, "--tokens", tokens, "--out", output, "--greedy", "16", "--device", "cpu");

        Assert.True(code == 0, error);
        using var file = SafetensorsFile.Open(output);
        for (int p = 0; p < prompts.Length; p++)
        {
            Assert.True(RelativeError.L2(file.Values<float>(file.Tensors[$"p{p}.logits"]), golden.Floats($"p{p}.logits")) < 1e-4);
            Assert.True(RelativeError.L2(file.Values<float>(file.Tensors[$"p{p}.mtp_logits"]), golden.Floats($"p{p}.mtp_logits")) < 1e-4);
            Assert.Equal(golden.Shape($"p{p}.mtp_logits"), file.Tensors[$"p{p}.mtp_logits"].Shape);
            Assert.Equal(golden.Ids($"p{p}.greedy"), file.Values<long>(file.Tensors[$"p{p}.greedy"]).ToArray().Select(id => (int)id));
        }
    }

    [Theory]
    [InlineData("{\"prompts\": [[1, 2, 5000]]}", "prompt 0 token 2 is id 5000, outside the vocabulary [0, 1024)")]
    [InlineData("{\"prompts\": [[]]}", "prompt 0 is empty")]
    [InlineData("{\"prompts\": []}", "no prompts")]
    [InlineData("{\"prompt\": [[1]]}", "expected {\"prompts\"")]
    [InlineData("{\"prompts\": [[1, \"a\"]]}", "non-integer id \"a\"")]
    [InlineData("not json", "not valid JSON")]
    public void BadTokenFilesExitWithCode2(string json, string message)
    {
        string tokens = Write("bad.json", json);
        var (code, _, error) = Run("logits", "--model", RepositoryPaths.Golden("tiny-v3"), "--tokens", tokens, "--out", Path.Combine(directory, "x"));
        Assert.Equal(2, code);
        Assert.Contains(message, error);
    }

    [Theory]
    [InlineData("logits", "--model", "MODEL")]
    [InlineData("logits", "--model", "MODEL", "--tokens", "/nonexistent.json", "--out", "x")]
    [InlineData("logits", "--model", "/nonexistent", "--tokens", "TOKENS", "--out", "x")]
    [InlineData("logits", "--model", "MODEL", "--tokens", "TOKENS", "--out", "x", "--greedy", "-1")]
    [InlineData("make-model", "--config", "configs/tiny.json", "--out", "x", "--dtype", "int4")]
    [InlineData("frobnicate")]
    public void MisuseExitsWithCode2(params string[] args)
    {
        string tokens = Write("ok.json", "{\"prompts\": [[1]]}");
        args = args.Select(a => a == "MODEL" ? RepositoryPaths.Golden("tiny-v3") : a == "TOKENS" ? tokens : a).ToArray();
        var (code, _, error) = Run(args);
        Assert.Equal(2, code);
        Assert.StartsWith("serverv3: ", error);
    }

    private string Write(string name, string content)
    {
        string path = Path.Combine(directory, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CommandLine.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
