namespace MixLens.Engine.Model;

/// <summary>
/// The activations of one forward pass, reused from call to call (llm.c's <c>ActivationTensors</c>): every buffer is
/// packed rows [T, ·] of the batch, grown when a batch has more tokens than any before and never shrunk, so a second
/// forward of the same (or a smaller) shape allocates none of them. Buffers may be longer than T rows; the layer uses
/// the first T. A forward rents one from its encoder's <see cref="ForwardWorkspacePool"/> and returns it at the end, so
/// concurrent forwards on one encoder each have their own.
/// <code>
///   Query, Key, Value, Context                        [T, d]
///   AttentionOutput, AttentionResidual, AttentionNorm [T, d]   (AttentionOutput only when traced or patched)
///   Intermediate                                      [T, f]
///   FfnOutput, FfnResidual                            [T, d]   (FfnOutput only when traced or patched)
///   Hidden[0], Hidden[1]                              [T, d]   layer outputs, alternating (layer l writes Hidden[l % 2])
/// </code>
/// </summary>
internal sealed class ForwardWorkspace
{
    public float[] Query = [], Key = [], Value = [], Context = [];
    public float[] AttentionOutput = [], AttentionResidual = [], AttentionNorm = [];
    public float[] Intermediate = [], FfnOutput = [], FfnResidual = [];
    public readonly float[][] Hidden = [[], []];
    /// <summary>The attention loop's reusable body (<see cref="SelfAttention"/>).</summary>
    public readonly SelfAttention.Job Attention = new();

    /// <summary>Grows every buffer an untraced forward uses to hold at least <paramref name="tokens"/> rows.</summary>
    public void EnsureCapacity(int tokens, int d, int f)
    {
        Grow(ref Query, tokens * d); Grow(ref Key, tokens * d); Grow(ref Value, tokens * d); Grow(ref Context, tokens * d);
        Grow(ref AttentionResidual, tokens * d); Grow(ref AttentionNorm, tokens * d);
        Grow(ref Intermediate, tokens * f); Grow(ref FfnResidual, tokens * d);
        Grow(ref Hidden[0], tokens * d); Grow(ref Hidden[1], tokens * d);
    }

    /// <summary>Grows <see cref="AttentionOutput"/> and <see cref="FfnOutput"/>, which a layer fills only when those
    /// steps are traced or patched (otherwise the projections add their residual in the GEMM's write-back).</summary>
    public void EnsureProjectionOutputs(int tokens, int d)
    {
        Grow(ref AttentionOutput, tokens * d); Grow(ref FfnOutput, tokens * d);
    }

    /// <summary>Bytes held by the buffers.</summary>
    public long Bytes => sizeof(float) * ((long)Query.Length + Key.Length + Value.Length + Context.Length + AttentionOutput.Length
        + AttentionResidual.Length + AttentionNorm.Length + Intermediate.Length + FfnOutput.Length + FfnResidual.Length
        + Hidden[0].Length + Hidden[1].Length);

    static void Grow(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = GC.AllocateUninitializedArray<float>(length);
    }
}

/// <summary>
/// The idle <see cref="ForwardWorkspace"/>s of one encoder (one per forward that ran concurrently, at most). A workspace
/// grown past <see cref="MaxPooledBytes"/> (e.g. by a Value Zeroing re-run of n² perturbed copies of a long text: 16,384
/// rows at n = 128, ~380 MB for MiniLM) is not kept, so one huge batch does not pin its memory for the encoder's lifetime;
/// such batches allocate their activations per call, as every forward did before the pool.
/// </summary>
internal sealed class ForwardWorkspacePool
{
    /// <summary>64 MiB: a MiniLM workspace for about 2,900 tokens (23 KB per token: 11 × d + f floats).</summary>
    public const long MaxPooledBytes = 64L << 20;

    readonly Stack<ForwardWorkspace> _idle = new();
    readonly Lock _gate = new();

    public ForwardWorkspace Rent()
    {
        lock (_gate) return _idle.Count > 0 ? _idle.Pop() : new ForwardWorkspace();
    }

    public void Return(ForwardWorkspace workspace)
    {
        if (workspace.Bytes > MaxPooledBytes) return;
        lock (_gate) _idle.Push(workspace);
    }

    /// <summary>The idle workspaces, the bytes they hold and the bytes of the largest (a diagnostic: the count stays
    /// at most the most forwards that ran at once, each workspace at most the size of the largest batch seen, so the
    /// total converges to count × largest as each workspace meets the largest shape, and never grows beyond).</summary>
    public (int Count, long Bytes, long LargestBytes) Idle
    {
        get
        {
            lock (_gate) return (_idle.Count, _idle.Sum(w => w.Bytes), _idle.Count == 0 ? 0 : _idle.Max(w => w.Bytes));
        }
    }
}
