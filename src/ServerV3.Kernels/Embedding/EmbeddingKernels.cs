using ILGPU;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Weights;

namespace ServerV3.Kernels.Embedding;

/// <summary>Row lookups: token embeddings, and gathering the rows that need logits.</summary>
public static class EmbeddingKernels
{
    public static void Lookup<TWeights>(TWeights table, ArrayView<int> tokenIds, Rows output, int tokens, int dim)
        where TWeights : struct, IWeightMatrix
    {
        int end = WorkRange.End(tokens);
        for (int t = WorkRange.Start(tokens); t < end; t++)
        {
            int id = tokenIds[t];
            for (int c = 0; c < dim; c++) output[t, c] = table.Get(0, id, c);
        }
    }

    public static void GatherRows(Rows input, ArrayView<int> rowIndices, Rows output, int rows, int dim)
    {
        int end = WorkRange.End(rows);
        for (int r = WorkRange.Start(rows); r < end; r++)
        {
            int source = rowIndices[r];
            for (int c = 0; c < dim; c++) output[r, c] = input[source, c];
        }
    }
}
