namespace WeightScope.Tests.Robustness;

/// <summary>One seeded mutation of a file's bytes, shared by the format-specific fuzz tests that open files beside
/// their companions (checkpoint shards, SavedModel folders): a bit flip, a few random bytes, or a truncation.</summary>
internal static class ByteMutation
{
    /// <summary>A mutated copy of <paramref name="input"/> and a description for the failure message.</summary>
    public static (byte[] Bytes, string How) Apply(byte[] input, Random rng)
    {
        var bytes = (byte[])input.Clone();
        switch (rng.Next(3))
        {
            case 0:
                int at = rng.Next(bytes.Length);
                bytes[at] ^= (byte)(1 << rng.Next(8));
                return (bytes, $"flip at {at}");
            case 1:
                int k = rng.Next(1, 5);
                for (int j = 0; j < k; j++) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
                return (bytes, $"{k} random bytes");
            default:
                int cut = rng.Next(bytes.Length);
                return (bytes[..cut], $"truncate to {cut}");
        }
    }
}
