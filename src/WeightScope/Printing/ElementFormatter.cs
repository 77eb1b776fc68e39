namespace WeightScope.Printing;

/// <summary>
/// Formats one element so that all elements of a tensor line up. Port of <c>torch/_tensor_str.py</c>, <c>_Formatter</c>:
/// it looks at every element that will print once, chooses integer, fixed or scientific notation, and the common width.
/// </summary>
internal sealed class ElementFormatter
{
    // Thresholds from _Formatter.__init__.
    private const double MaxRatioForFixed = 1000.0;
    private const double MaxForFixed = 1.0e8;
    private const double MinForFixed = 1.0e-4;

    private readonly bool _intMode = true;
    private readonly bool _sciMode;
    private readonly int _precision;

    /// <summary>A formatter for integer or bool elements, given as Python's <c>str()</c> of each.</summary>
    public ElementFormatter(IEnumerable<string> texts)
    {
        Width = 1;
        foreach (var s in texts) Width = Math.Max(Width, s.Length);
    }

    /// <summary>A formatter for floating-point elements (a tensor's values, or the real or imaginary parts of a complex one).</summary>
    public ElementFormatter(ReadOnlySpan<double> values, PrintOptions options)
    {
        _precision = options.Precision;
        Width = 1;

        double min = double.PositiveInfinity, max = 0;
        bool any = false;
        foreach (var v in values)
        {
            if (!double.IsFinite(v) || v == 0) continue;
            any = true;
            double a = Math.Abs(v);
            if (a < min) min = a;
            if (a > max) max = a;
            if (_intMode && v != Math.Ceiling(v)) _intMode = false;
        }
        // No nonzero finite value: torch returns before looking at sci_mode, so it stays int mode without scientific notation.
        if (!any) return;

        if (_intMode)
        {
            // In int mode every value is an integer; a '.' is appended to show the tensor is floating (hence the +1).
            if (max / min > MaxRatioForFixed || max > MaxForFixed)
            {
                _sciMode = true;
                foreach (var v in NonzeroFinite(values)) Width = Math.Max(Width, PythonFloat.Exponent(v, _precision).Length);
            }
            else
            {
                foreach (var v in NonzeroFinite(values)) Width = Math.Max(Width, PythonFloat.Fixed(v, 0).Length + 1);
            }
        }
        else if (max / min > MaxRatioForFixed || max > MaxForFixed || min < MinForFixed)
        {
            _sciMode = true;
            foreach (var v in NonzeroFinite(values)) Width = Math.Max(Width, PythonFloat.Exponent(v, _precision).Length);
        }
        else
        {
            foreach (var v in NonzeroFinite(values)) Width = Math.Max(Width, PythonFloat.Fixed(v, _precision).Length);
        }

        if (options.SciMode is { } forced) _sciMode = forced;
    }

    /// <summary>The common width (torch's <c>max_width</c>).</summary>
    public int Width { get; }

    /// <summary>One floating-point element, right-aligned to <see cref="Width"/> (<c>_Formatter.format</c>).</summary>
    public string Format(double value)
    {
        string s;
        if (_sciMode) s = PythonFloat.Exponent(value, _precision);
        else if (_intMode) s = double.IsFinite(value) ? PythonFloat.Fixed(value, 0) + "." : PythonFloat.Fixed(value, 0);
        else s = PythonFloat.Fixed(value, _precision);
        return Pad(s);
    }

    /// <summary>One integer or bool element (its <c>str()</c>), right-aligned to <see cref="Width"/>.</summary>
    public string Format(string text) => Pad(text);

    private string Pad(string s) => s.Length >= Width ? s : s.PadLeft(Width);

    private static IEnumerable<double> NonzeroFinite(ReadOnlySpan<double> values)
    {
        var list = new List<double>();
        foreach (var v in values)
            if (double.IsFinite(v) && v != 0) list.Add(v);
        return list;
    }
}
