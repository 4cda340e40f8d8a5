using System.Runtime.InteropServices;
using System.Text.Json;
using ServerV3.Engine.ModelLoading;
using ServerV3.Server.Cli;
using ServerV3.Kernels.Numerics;
using ServerV3.Tests;

namespace ServerV3.Server.Tests.Cli;

/// <summary>`serverv3 logits` end to end: the golden checks through the command line, and misuse exits with code 2.</summary>
public sealed class LogitsCommandTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("serverv3-cli-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <param name="againstReference">Take the prompts from golden.safetensors and let the command check itself
    /// against it (--reference), instead of a --tokens file.</param>
    /// <param name="expanded">Every step, prompts and greedy tokens alike, attended in the expanded form
    /// (--expanded-attention-min-tokens 1; the golden prompts are shorter than the default).</param>
    [Theory]
    [InlineData("tiny-v3", true, false)]
    [InlineData("tiny-v3-fp8", false, false)]
    [InlineData("tiny-v3-fp8", true, true)]
    public void WritesGoldenLogitsMtpLogitsAndGreedyTokens(string model, bool againstReference, bool expanded)
    {
        var golden = new GoldenData(model);
        var prompts = Enumerable.Range(0, golden.NumPrompts).Select(golden.Prompt).ToArray();
        string output = Path.Combine(directory, "out.safetensors");
        string[] source = againstReference
            ? ["--reference", Path.Combine(golden.ModelDirectory, "golden.safetensors")]
            : ["--tokens", Write("tokens.json", JsonSerializer.Serialize(new { prompts }))];

        string[] form = expanded ? ["--expanded-attention-min-tokens", "1"] : [];
        var (code, printed, error) = Run(["logits", "--model", golden.ModelDirectory, .. source, .. form, "--out", output, "--greedy", "16", "--device", "cpu"]);

        Assert.True(code == 0, error + printed);
        if (againstReference)
        {
            Assert.DoesNotContain("FAIL", printed);
            Assert.Equal(3 * prompts.Length, printed.Split('\n').Count(line => line.Contains(" ok ")));
        }
        using var file = SafetensorsFile.Open(output);
        for (int p = 0; p < prompts.Length; p++)
        {
            Assert.True(RelativeError.L2(file.Values<float>(file.Tensors[$"p{p}.logits"]), golden.Floats($"p{p}.logits")) < 1e-4);
            Assert.True(RelativeError.L2(file.Values<float>(file.Tensors[$"p{p}.mtp_logits"]), golden.Floats($"p{p}.mtp_logits")) < 1e-4);
            Assert.Equal(golden.Shape($"p{p}.mtp_logits"), file.Tensors[$"p{p}.mtp_logits"].Shape);
            Assert.Equal(golden.Ids($"p{p}.greedy"), file.Values<long>(file.Tensors[$"p{p}.greedy"]).ToArray().Select(id => (int)id));
        }
    }

    [Fact]
    public void AReferenceThatDiffersExitsWithCode1AndNamesEveryMismatch()
    {
        long[] prompt = [1, 2, 3];
        var ones = Enumerable.Repeat(1f, prompt.Length * 1024).ToArray();
        string reference = Path.Combine(directory, "reference.safetensors");
        SafetensorsWriter.Write(reference, [
            new("p0.input_ids", SafetensorsDType.I64, [prompt.Length], MemoryMarshal.AsBytes(prompt.AsSpan()).ToArray()),
            new("p0.logits", SafetensorsDType.F32, [prompt.Length, 1024], MemoryMarshal.AsBytes(ones.AsSpan()).ToArray()),
            new("p0.greedy", SafetensorsDType.I64, [prompt.Length], MemoryMarshal.AsBytes(prompt.AsSpan()).ToArray())]);

        var (code, printed, _) = Run("logits", "--model", RepositoryPaths.Golden("tiny-v3"), "--reference", reference,
            "--out", Path.Combine(directory, "out.safetensors"), "--greedy", "2", "--device", "cpu");

        Assert.Equal(1, code);
        Assert.Matches(@"p0\.logits +FAIL relative L2 \d", printed);
        Assert.Contains("p0.greedy        FAIL I64 [2] where the reference has I64 [3]", printed);
        Assert.DoesNotContain("mtp_logits", printed);
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
    [InlineData("logits", "--model", "MODEL", "--out", "x")]
    [InlineData("logits", "--model", "MODEL", "--reference", "/nonexistent.safetensors", "--out", "x")]
    [InlineData("logits", "--model", "MODEL", "--reference", "TOKENS", "--out", "x")]
    [InlineData("logits", "--model", "MODEL", "--tokens", "TOKENS", "--out", "x", "--tolerance", "-1")]
    [InlineData("logits", "--model", "MODEL", "--tokens", "TOKENS", "--out", "x", "--expanded-attention-min-tokens", "0")]
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

    [Fact]
    public void MissingCudaDevicesExitWithCode2AndSaySo()
    {
        // 16 ranks (one per routed expert of tiny-v3): more CUDA devices than any machine this runs on, GPU or not.
        string tokens = Write("ok.json", "{\"prompts\": [[1]]}");
        var (code, _, error) = Run("logits", "--model", RepositoryPaths.Golden("tiny-v3"), "--tokens", tokens, "--out", Path.Combine(directory, "x"),
            "--device", "cuda", "--expert-parallel", "16");
        Assert.Equal(2, code);
        Assert.Contains("CUDA device", error);
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
