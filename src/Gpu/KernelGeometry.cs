using ILGPU.Runtime;
using MixLens.Gpu.Kernels;

namespace MixLens.Gpu;

/// <summary>
/// Launch sizes chosen at run time from the accelerator, so that the same kernels run on a CUDA device and, with small
/// groups, on ILGPU's CPU accelerator (the tests' simulator).
/// </summary>
/// <param name="GemmSide">s: a GEMM group is s×s threads computing a 4s×4s tile (<see cref="GemmKernel"/>).</param>
/// <param name="GemmKTile">K chunk staged in shared memory per step.</param>
/// <param name="RowGroup">threads per row of the row kernels (<see cref="RowKernels"/>), a power of two.</param>
public sealed record KernelGeometry(int GemmSide, int GemmKTile, int RowGroup)
{
    /// <summary>The geometry for <paramref name="accelerator"/>: on a GPU 16×16-thread GEMM groups (64×64 tiles, k chunk
    /// 16) and 128 threads per row; otherwise the largest that fits its group size (the CPU accelerator: 2×2, 4).</summary>
    public static KernelGeometry For(Accelerator accelerator)
    {
        int maxGroup = accelerator.MaxNumThreadsPerGroup;
        bool gpu = accelerator.AcceleratorType != AcceleratorType.CPU;
        int side = 1;
        while (2 * side * 2 * side <= Math.Min(gpu ? 256 : 4, maxGroup)) side *= 2;
        int kTile = gpu ? 16 : 4;
        while (kTile > 1 && 2L * side * GemmKernel.Micro * kTile * sizeof(float) > accelerator.MaxSharedMemoryPerGroup) kTile /= 2;
        int row = 1;
        while (2 * row <= Math.Min(gpu ? 128 : 4, Math.Min(maxGroup, RowKernels.MaxGroup))) row *= 2;
        return new KernelGeometry(side, kTile, row);
    }

    /// <summary>Outputs per GEMM tile side (4s).</summary>
    public int GemmTile => GemmSide * GemmKernel.Micro;
}
