namespace ServerV3.Kernels.Weights;

/// <summary>How a weight matrix is stored on the device.</summary>
public enum WeightFormat
{
    F32,
    Bf16,
    Fp8Block,
}
