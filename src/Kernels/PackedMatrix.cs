using System.Runtime.CompilerServices;
using MixLens.Kernels.Internal;

namespace MixLens.Kernels;

/// <summary>
/// A GEMM right-hand operand B [k, n] packed once (at model load) into the panel layout of the packed GEMM
/// (<see cref="Gemm.MatMul(ReadOnlySpan{float}, int, PackedMatrix, Span{float}, int, int, in GemmEpilogue, bool)"/>).
/// Build it from a Linear weight W [n, k] (HF layout [out, in], y = x Wᵀ + b) with <see cref="FromTransposed"/>, or
/// from B [k, n] with <see cref="From"/>.
/// </summary>
/// <remarks>
/// Layout (MLAS <c>MlasSgemmCopyPackB</c>, BLIS "B panels"): K is cut into blocks of at most
/// <see cref="Gemm.KBlockSize"/> rows; within a block, the n columns into panels of <see cref="Gemm.PanelWidth"/> (w = 32 with AVX-512,
/// else 16); panel (block, jp) holds its kc × w elements row by row, so the micro-kernel reads B as one contiguous stream:
/// <code>
///   block 0: [panel 0: B[0..kc, 0..w)] [panel 1: B[0..kc, w..2w)] … [last panel, zero-padded past n]
///   block 1: [panel 0: B[kc..2kc, 0..w)] …
/// </code>
/// The data is a pinned array, its first element aligned to 64 bytes (one cache line, one zmm load). The layout depends
/// only on the hardware (the panel width is fixed per process), not on a path capped for one thread, so one packed weight
/// serves every path the process can take. A packed matrix is not meant to be saved and read on another machine.
/// </remarks>
public sealed unsafe class PackedMatrix
{
    readonly float[] _data;
    readonly int _offset;

    /// <summary>Columns of B (a Linear layer's output features).</summary>
    public int N { get; }
    /// <summary>Rows of B (the shared dimension; a Linear layer's input features).</summary>
    public int K { get; }
    /// <summary>The packed elements (<see cref="Gemm.PackedSize"/> of them).</summary>
    public ReadOnlySpan<float> Data => _data.AsSpan(_offset, (int)Gemm.PackedSize(N, K));

    PackedMatrix(int n, int k)
    {
        N = n;
        K = k;
        long size = Gemm.PackedSize(n, k);
        if (size > Array.MaxLength - 16) throw new ArgumentOutOfRangeException(nameof(n), $"a packed [{k}, {n}] matrix is too large for one array");
        _data = GC.AllocateUninitializedArray<float>((int)size + 16, pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref _data[0]);
        _offset = (int)((64 - (address & 63)) & 63) / sizeof(float);
    }

    /// <summary>Packs a Linear weight W [n, k] (row j = output unit j), for C = A Wᵀ.</summary>
    /// <param name="w">W, row j at <c>w[j·ldw ..]</c>.</param>
    /// <param name="ldw">Leading dimension of W (≥ k; 0 means k).</param>
    public static PackedMatrix FromTransposed(ReadOnlySpan<float> w, int n, int k, int ldw = 0)
    {
        var packed = new PackedMatrix(n, k);
        Gemm.PackTransposed(w, ldw == 0 ? k : ldw, n, k, packed.Writable);
        return packed;
    }

    /// <summary>Packs B [k, n] (row p = input feature p), for C = A B.</summary>
    /// <param name="ldb">Leading dimension of B (≥ n; 0 means n).</param>
    public static PackedMatrix From(ReadOnlySpan<float> b, int k, int n, int ldb = 0)
    {
        var packed = new PackedMatrix(n, k);
        Gemm.Pack(b, ldb == 0 ? n : ldb, k, n, packed.Writable);
        return packed;
    }

    Span<float> Writable => _data.AsSpan(_offset, (int)Gemm.PackedSize(N, K));

    /// <summary>The first packed element; stable, since the array is pinned.</summary>
    internal float* Pointer => (float*)Unsafe.AsPointer(ref _data[_offset]);
}
