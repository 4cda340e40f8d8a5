namespace ServerV3.Engine.Runtime;

/// <summary>The <c>--device</c> choice: CUDA when present (auto), or a forced backend.</summary>
public enum DeviceKind
{
    Auto,
    Cpu,
    Cuda,
}
