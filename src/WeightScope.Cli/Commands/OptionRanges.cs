using System.CommandLine;
using System.Globalization;

namespace WeightScope.Cli.Commands;

/// <summary>
/// The allowed range of every numeric option, by name (an option means the same on every verb that has it), checked
/// while parsing: a value out of range is a one-line usage error naming the option and its range (exit 2), before a
/// verb runs and before a library argument check could surface as .NET's "Parameter '…'" text.
/// </summary>
/// <remarks>
/// A new numeric option needs an entry here: <c>OptionRangeTests</c> walks the command tree and fails for one without.
/// The reader limit flags (<see cref="Common.LimitOptions"/>) check their own values (positive sizes and counts).
/// </remarks>
internal static class OptionRanges
{
    /// <summary>An allowed range; null bounds are open. <paramref name="Unchecked"/> says why a range cannot be stated here.</summary>
    internal sealed record Range(double? Min, double? Max, string? Unchecked = null)
    {
        /// <summary>"at least 1", "from 0 to 65535".</summary>
        public string Describe() => (Min, Max) switch
        {
            ({ } lo, { } hi) => $"from {N(lo)} to {N(hi)}",
            ({ } lo, null) => $"at least {N(lo)}",
            (null, { } hi) => $"at most {N(hi)}",
            _ => "any number",
        };

        public bool Contains(double v) => !double.IsNaN(v) && !(v < Min) && !(v > Max);
    }

    /// <summary>Ranges by option name.</summary>
    public static IReadOnlyDictionary<string, Range> ByName { get; } = new Dictionary<string, Range>(StringComparer.Ordinal)
    {
        ["--precision"] = new(0, null),     // digits after the point (torch, numpy, text export)
        ["--threshold"] = new(0, null),     // elements before a print is summarised
        ["--edgeitems"] = new(0, null),
        ["--linewidth"] = new(1, null),
        ["--bins"] = new(1, null),
        ["--depth"] = new(0, null),
        ["--align"] = new(1, null),         // and a power of two, checked by export with the alignment rules
        ["--width"] = new(1, 64),           // bits of a memory-file word
        ["--port"] = new(0, 65535),         // 0: any free port
        ["--atol"] = new(0, null),
        ["--rtol"] = new(0, null),
        ["--eps"] = new(0, null),
        ["--jobs"] = new(1, null),
        ["--per-channel"] = new(null, null, "an axis of the tensor, negative from the end as in numpy: checked against each tensor's rank"),
    };

    /// <summary>Adds the range check to every numeric option under <paramref name="root"/>.</summary>
    public static void Apply(Command root)
    {
        foreach (var command in Walk(root))
            foreach (var option in command.Options)
                if (ByName.TryGetValue(option.Name, out var range) && range.Unchecked is null)
                    Add(option, range);
    }

    /// <summary>Every command of the tree, the root first.</summary>
    public static IEnumerable<Command> Walk(Command root)
    {
        yield return root;
        foreach (var sub in root.Subcommands)
            foreach (var c in Walk(sub)) yield return c;
    }

    /// <summary>True for the option types that take a number.</summary>
    public static bool IsNumeric(Option option)
    {
        var t = Nullable.GetUnderlyingType(option.ValueType) ?? option.ValueType;
        return t == typeof(int) || t == typeof(long) || t == typeof(double) || t == typeof(float) || t == typeof(short)
               || t == typeof(uint) || t == typeof(ulong) || t == typeof(decimal);
    }

    private static void Add(Option option, Range range)
    {
        switch (option)
        {
            case Option<int> o: Check(o, r => r.GetValueOrDefault<int>(), range); break;
            case Option<int?> o: Check(o, r => r.GetValueOrDefault<int?>(), range); break;
            case Option<long> o: Check(o, r => r.GetValueOrDefault<long>(), range); break;
            case Option<long?> o: Check(o, r => r.GetValueOrDefault<long?>(), range); break;
            case Option<double> o: Check(o, r => r.GetValueOrDefault<double>(), range); break;
            case Option<double?> o: Check(o, r => r.GetValueOrDefault<double?>(), range); break;
            case Option<float> o: Check(o, r => r.GetValueOrDefault<float>(), range); break;
            case Option<float?> o: Check(o, r => r.GetValueOrDefault<float?>(), range); break;
        }
    }

    private static void Check<T>(Option<T> option, Func<System.CommandLine.Parsing.OptionResult, object?> value, Range range) =>
        option.Validators.Add(r =>
        {
            // Only a value given on the command line; one that did not parse is already reported as such.
            if (r.Implicit || r.Tokens.Count == 0 || r.Errors.Any()) return;
            object? v;
            try { v = value(r); }
            catch (InvalidOperationException) { return; } // not a number: System.CommandLine reports it
            if (v is null) return;
            double d = Convert.ToDouble(v, CultureInfo.InvariantCulture);
            if (!range.Contains(d))
                r.AddError($"{option.Name} must be {range.Describe()} (got {r.Tokens[^1].Value})");
        });

    private static string N(double v) => v.ToString("0.##########", CultureInfo.InvariantCulture);
}
