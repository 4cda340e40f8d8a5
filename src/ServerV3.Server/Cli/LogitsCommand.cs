using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json;
using ServerV3.Engine.Execution;
using ServerV3.Engine.ModelLoading;
using ServerV3.Engine.Runtime;

namespace ServerV3.Server.Cli;

/// <summary>
/// `serverv3 logits`: evaluates prompts of token ids and writes, per prompt i, p{i}.logits [T, vocab],
/// p{i}.mtp_logits [T-1, vocab] (models with an MTP layer) and with --greedy N p{i}.greedy [N] to a safetensors file;
/// with --reference, checks them against a reference file of the same names (exit code 1 on a mismatch).
/// </summary>
public static class LogitsCommand
{
    public static Command Create(TextWriter output)
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Model directory (Hugging Face format)", Required = true };
        var tokens = new Option<FileInfo?>("--tokens") { Description = "JSON file {\"prompts\": [[ids...], ...]}; default: the --reference file's p{i}.input_ids" };
        var outFile = new Option<FileInfo>("--out") { Description = "Output safetensors file", Required = true };
        var greedy = new Option<int>("--greedy") { Description = "Also decode N greedy tokens per prompt" };
        var reference = new Option<FileInfo?>("--reference") { Description = "Safetensors file of expected outputs (e.g. golden.safetensors) to check the written tensors against" };
        var tolerance = new Option<double>("--tolerance") { Description = "Largest relative L2 error accepted by --reference", DefaultValueFactory = _ => 1e-4 };
        var engine = new EngineOptionSet();
        var command = new Command("logits", "Compute the logits (and MTP logits) of token-id prompts") { model, tokens, outFile, greedy, reference, tolerance };
        engine.AddTo(command);
        command.SetAction(result =>
        {
            int greedyTokens = result.GetValue(greedy);
            if (greedyTokens < 0) throw new UsageException($"--greedy must not be negative, got {greedyTokens}");
            if (!(result.GetValue(tolerance) >= 0)) throw new UsageException($"--tolerance must not be negative, got {result.GetValue(tolerance)}");
            using var expected = result.GetValue(reference) is { } referenceFile ? OpenReference(referenceFile) : null;
            var prompts = result.GetValue(tokens) is { } tokenFile ? ReadPrompts(tokenFile)
                : expected is not null ? ReferenceCheck.Prompts(expected)
                : throw new UsageException("give the prompts with --tokens, or a --reference file that holds p{i}.input_ids");
            string directory = result.GetValue(model)!.FullName;
            using var loaded = LoadedModel.Load(directory, engine.Bind(result, directory, maxRunning: 1).Engine);
            CheckPrompts(prompts, loaded.Config.VocabSize, loaded.Config.MaxPositionEmbeddings - greedyTokens);
            var entries = new List<SafetensorsWriter.Entry>();
            int vocab = loaded.Config.VocabSize;
            for (int p = 0; p < prompts.Length; p++)
            {
                int[] prompt = prompts[p];
                using var session = new SequenceSession(loaded, prompt.Length + greedyTokens);
                var (logits, mtp) = session.Append(prompt, withMtp: true);
                entries.Add(Floats($"p{p}.logits", logits, prompt.Length, vocab));
                if (loaded.Weights.Mtp is not null) entries.Add(Floats($"p{p}.mtp_logits", mtp, prompt.Length - 1, vocab));
                if (greedyTokens > 0)
                {
                    long[] ids = session.Greedy(logits.AsSpan(logits.Length - vocab), greedyTokens).Select(i => (long)i).ToArray();
                    entries.Add(new SafetensorsWriter.Entry($"p{p}.greedy", SafetensorsDType.I64, [greedyTokens], MemoryMarshal.AsBytes(ids.AsSpan()).ToArray()));
                }
                output.WriteLine($"prompt {p}: {prompt.Length} tokens");
            }
            SafetensorsWriter.Write(result.GetValue(outFile)!.FullName, entries);
            output.WriteLine($"wrote {entries.Count} tensors to {result.GetValue(outFile)!.FullName}");
            if (expected is null) return 0;
            output.WriteLine($"against {expected.Path} (relative L2 tolerance {result.GetValue(tolerance):E1}):");
            return ReferenceCheck.Compare(entries, expected, result.GetValue(tolerance), output) ? 0 : 1;
        });
        return command;
    }

    private static SafetensorsWriter.Entry Floats(string name, float[] values, int rows, int cols) =>
        new(name, SafetensorsDType.F32, [rows, cols], MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    private static SafetensorsFile OpenReference(FileInfo file) =>
        file.Exists ? SafetensorsFile.Open(file.FullName) : throw new UsageException($"--reference: {file.FullName}: file not found");

    private static int[][] ReadPrompts(FileInfo file)
    {
        if (!file.Exists) throw new UsageException($"--tokens: {file.FullName}: file not found");
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(file.FullName));
            if (!document.RootElement.TryGetProperty("prompts", out var prompts) || prompts.ValueKind != JsonValueKind.Array)
                throw new UsageException($"--tokens: {file.FullName}: expected {{\"prompts\": [[ids...], ...]}}");
            return prompts.EnumerateArray().Select((prompt, i) => prompt.ValueKind == JsonValueKind.Array
                ? prompt.EnumerateArray().Select(id => id.ValueKind == JsonValueKind.Number && id.TryGetInt32(out int value) ? value : throw new UsageException(
                    $"--tokens: {file.FullName}: prompt {i} has a non-integer id {id.GetRawText()}")).ToArray()
                : throw new UsageException($"--tokens: {file.FullName}: prompt {i} is not an array of ids")).ToArray();
        }
        catch (JsonException e)
        {
            throw new UsageException($"--tokens: {file.FullName}: not valid JSON ({e.Message})");
        }
    }

    private static void CheckPrompts(int[][] prompts, int vocab, int maxLength)
    {
        if (prompts.Length == 0) throw new UsageException("--tokens: no prompts");
        for (int p = 0; p < prompts.Length; p++)
        {
            if (prompts[p].Length == 0) throw new UsageException($"--tokens: prompt {p} is empty");
            if (prompts[p].Length > maxLength) throw new UsageException($"--tokens: prompt {p} has {prompts[p].Length} tokens; the model allows {maxLength} here");
            int bad = Array.FindIndex(prompts[p], id => id < 0 || id >= vocab);
            if (bad >= 0) throw new UsageException($"--tokens: prompt {p} token {bad} is id {prompts[p][bad]}, outside the vocabulary [0, {vocab})");
        }
    }
}
