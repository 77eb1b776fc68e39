using System.Numerics.Tensors;

namespace WeightScope.Tensors;

/// <summary>
/// A stored bool is one byte, and numpy and torch take every non-zero byte as True: a uint8 buffer viewed as bool
/// (<c>np.frombuffer(b, np.bool_)</c>, C code writing masks) can hold 2, 100 or 255, and <c>a.sum()</c>,
/// <c>a.astype(float)</c>, <c>a == b</c> and <c>torch.from_numpy(a).float()</c> all see 1. WeightScope hands out bools
/// the same way, as 0 and 1 only: .NET's <see cref="bool"/> compares by its byte, so a stored 100 would otherwise be
/// unequal to <c>true</c>, and statistics would sum 100s.
/// </summary>
public static class BoolBytes
{
    /// <summary>True when every byte is 0 or 1 (a vectorised scan; the common case, which stays zero-copy).</summary>
    public static bool AreCanonical(ReadOnlySpan<byte> bytes) => bytes.IndexOfAnyExcept((byte)0, (byte)1) < 0;

    /// <summary>Rewrites every non-zero byte as 1, in place.</summary>
    public static void Canonicalize(Span<byte> bytes) => TensorPrimitives.Min(bytes, (byte)1, bytes);
}
