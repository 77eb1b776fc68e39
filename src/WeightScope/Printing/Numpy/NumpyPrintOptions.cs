namespace WeightScope.Printing.Numpy;

/// <summary>
/// How arrays are printed: numpy's <c>np.set_printoptions</c> (numpy 1.24, <c>numpy/core/arrayprint.py</c>), with numpy's
/// defaults. Legacy printing is off; <c>nanstr</c>/<c>infstr</c>/<c>formatter</c> keep numpy's defaults.
/// Values are checked by <see cref="Validate"/> (numpy checks them in <c>set_printoptions</c> and when printing),
/// so a record built with <c>with { … }</c> from user input can be reported with numpy's own message.
/// </summary>
public sealed record NumpyPrintOptions
{
    /// <summary>The values <c>floatmode</c> accepts.</summary>
    public static IReadOnlyList<string> FloatModes { get; } = ["fixed", "unique", "maxprec", "maxprec_equal"];

    /// <summary>The values <c>sign</c> accepts.</summary>
    public static IReadOnlyList<string> Signs { get; } = ["-", "+", " "];

    /// <summary>numpy's defaults: precision 8, threshold 1000, edgeitems 3, linewidth 75, suppress off, floatmode
    /// <c>maxprec</c>, sign <c>-</c>.</summary>
    public static NumpyPrintOptions Default { get; } = new();

    /// <summary>Digits after the decimal point (<c>precision</c>, default 8): at most this many in <c>maxprec</c> and
    /// <c>maxprec_equal</c>, exactly this many in <c>fixed</c>, ignored in <c>unique</c>.</summary>
    public int Precision { get; init; } = 8;

    /// <summary>Element count above which an array is summarised with <c>...</c> (<c>threshold</c>, default 1000;
    /// <see cref="double.PositiveInfinity"/> or <c>sys.maxsize</c> never summarises).</summary>
    public double Threshold { get; init; } = 1000;

    /// <summary>Items kept at the start and end of each summarised axis (<c>edgeitems</c>, default 3).</summary>
    public int EdgeItems { get; init; } = 3;

    /// <summary>Characters per line (<c>linewidth</c>, default 75).</summary>
    public int LineWidth { get; init; } = 75;

    /// <summary>Never use scientific notation for small values (<c>suppress</c>, default false): values under 1e-4 or a
    /// max/min ratio over 1000 no longer switch to it; values of 1e8 and over still do.</summary>
    public bool Suppress { get; init; }

    /// <summary><c>floatmode</c>: <c>maxprec</c> (default: shortest digits, at most <see cref="Precision"/>),
    /// <c>maxprec_equal</c> (as many digits for every element as the longest needs), <c>fixed</c> (always
    /// <see cref="Precision"/> digits), <c>unique</c> (shortest digits, precision ignored).</summary>
    public string FloatMode { get; init; } = "maxprec";

    /// <summary><c>sign</c>: <c>-</c> (default: only negative values), <c>+</c> (always), <c>" "</c> (a space in place of
    /// a plus sign).</summary>
    public string Sign { get; init; } = "-";

    /// <summary>
    /// Checks the values as numpy does, with numpy's messages (<c>floatmode option must be one of …</c>,
    /// <c>precision must be &gt;= 0</c>…). numpy does not check <c>edgeitems</c>; a negative one prints nonsense there,
    /// and is refused here.
    /// </summary>
    /// <exception cref="ArgumentException">A value numpy refuses.</exception>
    public void Validate()
    {
        if (!FloatModes.Contains(FloatMode))
            throw new ArgumentException("floatmode option must be one of " + string.Join(", ", FloatModes.Select(m => $"\"{m}\"")), nameof(FloatMode));
        if (!Signs.Contains(Sign))
            throw new ArgumentException("sign option must be one of ' ', '+', or '-'", nameof(Sign));
        if (double.IsNaN(Threshold))
            throw new ArgumentException("threshold must be non-NAN, try sys.maxsize for untruncated representation", nameof(Threshold));
        if (Precision < 0)
            throw new ArgumentException("precision must be >= 0", nameof(Precision));
        if (EdgeItems < 0)
            throw new ArgumentException("edgeitems must be >= 0", nameof(EdgeItems));
    }
}
