using System.Runtime.InteropServices;
using ServerV3.Engine.ModelLoading;
using ServerV3.Kernels.Numerics;

namespace ServerV3.Server.Cli;

/// <summary>
/// `logits --reference`: the prompts come from the reference's p{i}.input_ids, and every tensor written that the
/// reference also holds must match it (floats within a relative L2 tolerance, token ids exactly), so a device or
/// build can be checked against golden outputs where no test runner exists.
/// </summary>
internal static class ReferenceCheck
{
    public static int[][] Prompts(SafetensorsFile reference)
    {
        var prompts = new List<int[]>();
        while (reference.Tensors.TryGetValue($"p{prompts.Count}.input_ids", out var ids))
        {
            if (ids.DType != SafetensorsDType.I64 || ids.Shape.Length != 1)
                throw new UsageException($"--reference: {reference.Path}: {ids.Name} must be a 1-D I64 tensor, got {ids.DType} {ids.ShapeText}");
            prompts.Add(reference.Values<long>(ids).ToArray().Select(id => checked((int)id)).ToArray());
        }
        return prompts.Count > 0 ? [.. prompts]
            : throw new UsageException($"--reference: {reference.Path}: no p0.input_ids tensor to take the prompts from; give --tokens");
    }

    /// <returns>Whether every shared tensor matched.</returns>
    public static bool Compare(IEnumerable<SafetensorsWriter.Entry> entries, SafetensorsFile reference, double tolerance, TextWriter output)
    {
        bool allMatch = true;
        foreach (var entry in entries)
        {
            if (!reference.Tensors.TryGetValue(entry.Name, out var expected)) continue;
            string verdict;
            bool match;
            if (!entry.Shape.SequenceEqual(expected.Shape) || entry.DType != expected.DType)
            {
                match = false;
                verdict = $"{entry.DType} [{string.Join(", ", entry.Shape)}] where the reference has {expected.DType} {expected.ShapeText}";
            }
            else if (entry.DType == SafetensorsDType.F32)
            {
                double error = RelativeError.L2(MemoryMarshal.Cast<byte, float>(entry.Data), reference.Values<float>(expected));
                match = error <= tolerance;
                verdict = $"relative L2 {error:E2}";
            }
            else
            {
                var actual = MemoryMarshal.Cast<byte, long>(entry.Data);
                var wanted = reference.Values<long>(expected);
                int first = actual.CommonPrefixLength(wanted);
                match = first == actual.Length;
                verdict = match ? "identical" : $"differs from index {first}: {actual[first]} where the reference has {wanted[first]}";
            }
            output.WriteLine($"  {entry.Name,-16} {(match ? "ok  " : "FAIL")} {verdict}");
            allMatch &= match;
        }
        return allMatch;
    }
}
