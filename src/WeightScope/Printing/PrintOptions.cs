namespace WeightScope.Printing;

/// <summary>
/// How tensors are printed: PyTorch's <c>torch.set_printoptions</c> (<c>torch/_tensor_str.py</c>, <c>__PrinterOptions</c>).
/// The defaults are torch's.
/// </summary>
public sealed record PrintOptions
{
    private readonly int _precision = 4;
    private readonly int _edgeItems = 3;
    private readonly double _threshold = 1000;

    /// <summary>Digits after the decimal point (torch's <c>precision</c>, default 4).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public int Precision
    {
        get => _precision;
        init => _precision = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(Precision), value, "precision must be 0 or more");
    }

    /// <summary>Element count above which a tensor is summarized with <c>...</c> (torch's <c>threshold</c>, default 1000;
    /// <see cref="double.PositiveInfinity"/> never summarizes).</summary>
    /// <exception cref="ArgumentOutOfRangeException">NaN.</exception>
    public double Threshold
    {
        get => _threshold;
        init => _threshold = !double.IsNaN(value) ? value : throw new ArgumentOutOfRangeException(nameof(Threshold), value, "threshold must be a number");
    }

    /// <summary>Items shown at the start and end of each summarized dimension (torch's <c>edgeitems</c>, default 3).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public int EdgeItems
    {
        get => _edgeItems;
        init => _edgeItems = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(EdgeItems), value, "edgeitems must be 0 or more");
    }

    /// <summary>Characters per line used to wrap rows (torch's <c>linewidth</c>, default 80).</summary>
    public int LineWidth { get; init; } = 80;

    /// <summary>Scientific notation always (true), never (false), or chosen from the values (null, torch's default).</summary>
    public bool? SciMode { get; init; }

    /// <summary>torch's defaults: precision 4, threshold 1000, edgeitems 3, linewidth 80, sci_mode automatic.</summary>
    public static PrintOptions Default { get; } = new();

    /// <summary>
    /// The options a <c>torch.set_printoptions(profile=…)</c> call sets: <c>default</c>, <c>short</c> (precision 2, edgeitems 2)
    /// or <c>full</c> (threshold ∞). As in torch, a profile leaves <see cref="SciMode"/> automatic; override fields with
    /// <c>with { … }</c> the way keyword arguments override the profile.
    /// </summary>
    /// <exception cref="ArgumentException">The profile is not one of the three.</exception>
    public static PrintOptions FromProfile(string profile) => profile switch
    {
        // Ported from torch/_tensor_str.py, set_printoptions.
        "default" => new PrintOptions { Precision = 4, Threshold = 1000, EdgeItems = 3, LineWidth = 80 },
        "short" => new PrintOptions { Precision = 2, Threshold = 1000, EdgeItems = 2, LineWidth = 80 },
        "full" => new PrintOptions { Precision = 4, Threshold = double.PositiveInfinity, EdgeItems = 3, LineWidth = 80 },
        _ => throw new ArgumentException($"unknown print profile '{profile}': expected default, short or full", nameof(profile)),
    };
}
