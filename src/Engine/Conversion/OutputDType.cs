namespace MixLens.Engine.Conversion;

/// <summary>The element type of converted floating-point tensors (<c>--dtype</c>); integer and bool tensors are never cast.</summary>
public enum OutputDType
{
    /// <summary>Keep each tensor's stored type (bit-exact copy).</summary>
    Keep,
    /// <summary>IEEE float32; F16/BF16 widen exactly, F64 rounds to nearest.</summary>
    F32,
    /// <summary>IEEE half; rounded to nearest even (as <c>tensor.half()</c>), overflow becomes ±∞.</summary>
    F16,
    /// <summary>bfloat16; rounded to nearest even (as <c>tensor.bfloat16()</c>).</summary>
    BF16,
}
