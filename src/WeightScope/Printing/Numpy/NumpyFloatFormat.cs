namespace WeightScope.Printing.Numpy;

/// <summary>
/// Port of numpy 1.24's <c>FloatingFormat</c> (<c>numpy/core/arrayprint.py</c>, legacy printing off): looks once at every
/// value that will print, chooses positional or scientific notation and the paddings, then formats each element to a
/// common width. The values are doubles holding exactly the array's float16/float32/float64 values; the constructor's
/// <c>kind</c> says which, since numpy's digits and its <c>max/min</c> ratio are computed in the array's own type.
/// </summary>
internal sealed class NumpyFloatFormat
{
    // Thresholds of FloatingFormat.fillFormat.
    private const double MaxForFixed = 1.0e8;
    private const double MinForFixed = 0.0001;
    private const double MaxRatioForFixed = 1000.0;
    private const string NanStr = "nan"; // np.set_printoptions(nanstr=…) and infstr are not ported: numpy's defaults
    private const string InfStr = "inf";

    private readonly NumpyFloatKind _kind;
    private readonly string _floatMode;
    private readonly string _sign;
    private readonly bool _expFormat;
    private int _precision;
    private int _minDigits = -1;
    private int _padLeft;
    private int _padRight;
    private int _expSize = -1;
    private TrimMode _trim = TrimMode.Zeros;
    private bool _unique = true;

    /// <param name="data">The values that print (numpy's <c>data</c>: the summarised corners when summarising).</param>
    /// <param name="kind">The values' numpy type.</param>
    /// <param name="options">precision, floatmode, suppress, sign.</param>
    /// <param name="sign">The sign option; complex numbers format their imaginary parts with <c>'+'</c>.</param>
    public NumpyFloatFormat(ReadOnlySpan<double> data, NumpyFloatKind kind, NumpyPrintOptions options, string? sign = null)
    {
        _kind = kind;
        _floatMode = options.FloatMode;
        _sign = sign ?? options.Sign;
        // _none_or_positive_arg: 'unique' ignores precision.
        _precision = _floatMode == "unique" ? -1 : options.Precision;
        if (_precision < -1) throw new ArgumentOutOfRangeException(nameof(options), options.Precision, "precision must be >= 0");

        // fillFormat: only the finite values decide the digits; the nonzero ones choose the notation.
        var finite = new List<double>(data.Length);
        bool anyNonFinite = false, anyNegativeInf = false;
        double maxValue = 0, minValue = double.PositiveInfinity;
        bool anyNonZero = false;
        foreach (double v in data)
        {
            if (!double.IsFinite(v))
            {
                anyNonFinite = true;
                if (double.IsNegativeInfinity(v)) anyNegativeInf = true;
                continue;
            }
            finite.Add(v);
            if (v == 0) continue;
            anyNonZero = true;
            double a = Math.Abs(v);
            if (a > maxValue) maxValue = a;
            if (a < minValue) minValue = a;
        }
        if (anyNonZero)
        {
            _expFormat = maxValue >= MaxForFixed
                || (!options.Suppress && (minValue < MinForFixed || Ratio(maxValue, minValue) > MaxRatioForFixed));
        }

        if (finite.Count == 0)
        {
            _padLeft = 0;
            _padRight = 0;
            _trim = TrimMode.Zeros;
            _expSize = -1;
            _unique = true;
            _minDigits = -1;
        }
        else if (_expFormat)
        {
            bool fixedMode = _floatMode == "fixed";
            var first = new Dragon4.Options(fixedMode ? DigitMode.Exact : DigitMode.Unique, CutoffMode.TotalLength, _precision, -1,
                _sign == "+", fixedMode ? TrimMode.None : TrimMode.Zeros, -1, -1, -1);
            int maxInt = 0, maxFrac = 0, maxExp = 0;
            foreach (double v in finite)
            {
                string s = Dragon4.Scientific(v, kind, first);
                int e = s.IndexOf('e');
                int dot = s.IndexOf('.');
                maxInt = Math.Max(maxInt, dot);
                maxFrac = Math.Max(maxFrac, e - dot - 1);
                maxExp = Math.Max(maxExp, s.Length - e - 1);
            }
            _expSize = maxExp - 1;
            _trim = TrimMode.None;
            _precision = maxFrac;
            _minDigits = maxFrac;
            _unique = !fixedMode;
            _padLeft = maxInt;
            _padRight = _expSize + 2 + _precision; // only used for the width of nan and inf
        }
        else
        {
            bool fixedMode = _floatMode == "fixed";
            var first = new Dragon4.Options(fixedMode ? DigitMode.Exact : DigitMode.Unique, CutoffMode.FractionLength, _precision, -1,
                _sign == "+", fixedMode ? TrimMode.None : TrimMode.Zeros, -1, -1, -1);
            int maxInt = 0, maxFrac = 0;
            foreach (double v in finite)
            {
                string s = Dragon4.Positional(v, kind, first);
                int dot = s.IndexOf('.');
                maxInt = Math.Max(maxInt, dot);
                maxFrac = Math.Max(maxFrac, s.Length - dot - 1);
            }
            _padLeft = maxInt;
            _padRight = maxFrac;
            _expSize = -1;
            _unique = !fixedMode;
            if (_floatMode is "fixed" or "maxprec_equal")
            {
                _precision = _minDigits = _padRight;
                _trim = TrimMode.None;
            }
            else
            {
                _trim = TrimMode.Zeros;
                _minDigits = 0;
            }
        }

        // sign=' ' leaves room for a sign no value has
        if (_sign == " " && !finite.Exists(double.IsNegative)) _padLeft++;

        if (anyNonFinite)
        {
            int negInf = _sign != "-" || anyNegativeInf ? 1 : 0;
            int offset = _padRight + 1; // +1 for the decimal point
            _padLeft = Math.Max(_padLeft, Math.Max(NanStr.Length - offset, InfStr.Length + negInf - offset));
        }
    }

    /// <summary>One element (<c>FloatingFormat.__call__</c>).</summary>
    public string Format(double x)
    {
        if (!double.IsFinite(x))
        {
            string ret = double.IsNaN(x)
                ? (_sign == "+" ? "+" : "") + NanStr
                : (x < 0 ? "-" : _sign == "+" ? "+" : "") + InfStr;
            int pad = _padLeft + _padRight + 1 - ret.Length;
            return pad > 0 ? new string(' ', pad) + ret : ret;
        }
        var o = new Dragon4.Options(_unique ? DigitMode.Unique : DigitMode.Exact,
            _expFormat ? CutoffMode.TotalLength : CutoffMode.FractionLength, _precision, _minDigits, _sign == "+", _trim,
            _padLeft, _expFormat ? -1 : _padRight, _expSize);
        return _expFormat ? Dragon4.Scientific(x, _kind, o) : Dragon4.Positional(x, _kind, o);
    }

    // max_val/min_val is numpy scalar division in the array's type (float16 or float32 rounding, overflow to inf).
    private double Ratio(double max, double min) => _kind switch
    {
        NumpyFloatKind.Half => (double)((Half)max / (Half)min),
        NumpyFloatKind.Single => (float)max / (float)min,
        _ => max / min,
    };
}
