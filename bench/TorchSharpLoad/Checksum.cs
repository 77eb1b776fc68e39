using System.Security.Cryptography;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchSharpLoad;

/// <summary>
/// What the module holds after a load: the sum of each state-dict tensor (in float64), their total, and a digest of
/// the "name=sum" lines, so two loaders are shown to have put the same values in the same places. Also the module's
/// own size: bytes of distinct storages (a tied Parameter counted once).
/// </summary>
internal sealed record Checksum(int Tensors, double Total, string Digest, long ModuleBytes)
{
    public static Checksum Of(nn.Module module)
    {
        using var _ = no_grad();
        var lines = new StringBuilder();
        double total = 0;
        long bytes = 0;
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance); // a tied Parameter is one object under two names
        var sd = module.state_dict();
        foreach (var (name, t) in sd)
        {
            double sum = SumOf(t);
            total += sum;
            lines.Append(name).Append('=').Append(sum.ToString("R", System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
            if (seen.Add(t)) bytes += t.NumberOfElements * t.ElementSize;
        }
        string digest = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(lines.ToString())))[..16].ToLowerInvariant();
        return new Checksum(sd.Count, total, digest, bytes);
    }

    private static double SumOf(Tensor t)
    {
        if (t.NumberOfElements == 0) return 0;
        if (t.is_complex()) return torch.view_as_real(t).sum(ScalarType.Float64).ToDouble();
        return t.sum(ScalarType.Float64).ToDouble();
    }
}
