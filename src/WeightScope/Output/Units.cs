using System.Globalization;

namespace WeightScope.Output;

/// <summary>
/// Human-readable quantities, one implementation for every presenter: the CLI's tables and the viewer's page show a
/// size as the same string (<c>1.50 KiB</c>, <c>84.0 MiB</c>), so a number read on one can be found on the other.
/// </summary>
public static class Units
{
    private static readonly string[] s_byteUnits = ["B", "KiB", "MiB", "GiB", "TiB"];

    /// <summary>
    /// A byte count in binary units: <c>512 B</c>, <c>1.50 KiB</c>, <c>84.0 MiB</c>, <c>235 GiB</c> (three significant
    /// digits from 1 KiB up, invariant culture).
    /// </summary>
    public static string Bytes(long n)
    {
        double v = n;
        int u = 0;
        while (v >= 1024 && u < s_byteUnits.Length - 1) { v /= 1024; u++; }
        return u == 0 ? $"{n} B" : v.ToString(v >= 100 ? "0" : v >= 10 ? "0.0" : "0.00", CultureInfo.InvariantCulture) + " " + s_byteUnits[u];
    }
}
