using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ServerV3.Kernels.Gemm;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Weights;

namespace ServerV3.Kernels.Tests;

/// <summary>
/// Every portable kernel body, for every weight format, compiles to PTX for Hopper (sm_90) through ILGPU's CUDA
/// backend (ILGPU 1.5.3 writes it as sm_80 PTX, which the driver compiles for the card). That needs no GPU, so CI
/// catches a construct the CUDA backend rejects before a GPU machine sees it.
/// </summary>
public sealed class CudaCompilationTests
{
    [Fact]
    public void EveryPortableKernelCompilesToPtxForSm90()
    {
        using var context = Context.Create(builder => builder.Cuda().EnableAlgorithms());
        using var backend = new PTXBackend(context, CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, nvvmAPI: null!); // no NVVM: ILGPU's own PTX generator, as at run time
        var kernels = PortableKernels().ToList();
        var failures = new List<string>();
        foreach (var kernel in kernels)
        {
            try
            {
                var compiled = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(kernel), KernelSpecialization.Empty);
                if (!compiled.PTXAssembly.Contains(".entry ", StringComparison.Ordinal)) failures.Add($"{Name(kernel)}: no entry point in the PTX");
            }
            catch (Exception e)
            {
                failures.Add($"{Name(kernel)}: {e.GetType().Name}: {e.Message}");
            }
        }
        Assert.Empty(failures);
        Assert.Contains(kernels, k => k.Name == nameof(LinearKernels.Linear) && k.GetGenericArguments()[0] == typeof(Fp8BlockMatrix));
    }

    /// <summary>The public static bodies of the *Kernels classes outside Cpu/, the generic ones once per weight format.</summary>
    private static IEnumerable<MethodInfo> PortableKernels()
    {
        var assembly = typeof(KernelSet).Assembly;
        var formats = assembly.GetTypes().Where(t => t.IsValueType && typeof(IWeightMatrix).IsAssignableFrom(t)).ToArray();
        return assembly.GetTypes()
            .Where(t => t.IsAbstract && t.IsSealed && t.Name.EndsWith("Kernels", StringComparison.Ordinal) && t.Namespace != "ServerV3.Kernels.Cpu")
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.ReturnType == typeof(void))
            .SelectMany(m => m.IsGenericMethodDefinition ? formats.Select(f => m.MakeGenericMethod(f)) : [m]);
    }

    private static string Name(MethodInfo kernel) =>
        $"{kernel.DeclaringType!.Name}.{kernel.Name}<{string.Join(", ", kernel.GetGenericArguments().Select(a => a.Name))}>";
}
