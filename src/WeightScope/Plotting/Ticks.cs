using System.Globalization;

namespace WeightScope.Plotting;

/// <summary>Axis ticks at round numbers (1, 2, 2.5, 5 × 10ⁿ) and their labels.</summary>
public static class Ticks
{
    /// <summary>Round tick values inside [<paramref name="min"/>, <paramref name="max"/>], about <paramref name="target"/> of them.</summary>
    public static double[] Nice(double min, double max, int target = 6)
    {
        if (!(max > min) || !double.IsFinite(min) || !double.IsFinite(max)) return double.IsFinite(min) ? [min] : [];
        double step = Step((max - min) / Math.Max(1, target));
        var ticks = new List<double>();
        for (double k = Math.Ceiling(min / step - 1e-9); k * step <= max + step * 1e-9; k++)
            ticks.Add(Math.Abs(k * step) < step * 1e-9 ? 0 : k * step);
        return [.. ticks];
    }

    /// <summary>The round step (1, 2, 2.5 or 5 × 10ⁿ) nearest to <paramref name="raw"/>.</summary>
    public static double Step(double raw)
    {
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        return new[] { 1, 2, 2.5, 5, 10 }.Select(m => m * magnitude).MinBy(s => Math.Abs(s - raw));
    }

    /// <summary>Labels for <paramref name="ticks"/> with just enough decimals to tell them apart.</summary>
    public static string[] Labels(IReadOnlyList<double> ticks)
    {
        if (ticks.Count == 0) return [];
        double largest = ticks.Max(Math.Abs);
        if (largest >= 1e6 || (largest > 0 && largest < 1e-3))
            return ticks.Select(t => t == 0 ? "0" : t.ToString("0.##e0", CultureInfo.InvariantCulture)).ToArray();
        double step = ticks.Count > 1 ? ticks[1] - ticks[0] : Math.Abs(ticks[0]);
        int decimals = 0;
        while (decimals < 6 && step > 0 && Math.Abs(step * Math.Pow(10, decimals) - Math.Round(step * Math.Pow(10, decimals))) > 1e-6) decimals++;
        return ticks.Select(t => t.ToString("F" + decimals, CultureInfo.InvariantCulture)).ToArray();
    }
}
