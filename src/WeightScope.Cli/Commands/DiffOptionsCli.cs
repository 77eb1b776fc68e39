using System.CommandLine;
using WeightScope.Analysis;

namespace WeightScope.Cli.Commands;

/// <summary>
/// The pairing and tolerance options of a comparison (<c>--map --no-auto-map --atol --rtol --equal-nan</c>), shared by
/// <c>diff</c> and <c>serve A B</c> so both compare the same way.
/// </summary>
internal sealed class DiffOptionsCli
{
    public Option<string[]> Map { get; } = new("--map") { Description = "Rename rule s/regex/replacement/[g][i] applied to the names of both files before pairing; repeatable, applied in order" };
    public Option<bool> NoAutoMap { get; } = new("--no-auto-map") { Description = "Do not detect and strip a prefix one file adds to the other's names (module., model., model_weights/…)" };
    public Option<double> Atol { get; } = new("--atol") { Description = "Absolute tolerance: equal when |a-b| <= atol + rtol*|b|", DefaultValueFactory = _ => 1e-8 };
    public Option<double> Rtol { get; } = new("--rtol") { Description = "Relative tolerance (see --atol)", DefaultValueFactory = _ => 1e-5 };
    public Option<bool> EqualNan { get; } = new("--equal-nan") { Description = "Count NaN against NaN in the same place as equal (numpy's equal_nan)" };

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { Map, NoAutoMap, Atol, Rtol, EqualNan }) command.Options.Add(o);
    }

    /// <summary>The options as given; a bad rule or tolerance is a usage error.</summary>
    public DiffOptions Read(ParseResult p)
    {
        double at = p.GetValue(Atol), rt = p.GetValue(Rtol);
        if (!(at >= 0) || !(rt >= 0)) throw new UsageException("--atol and --rtol must be non-negative numbers");
        return new DiffOptions
        {
            Atol = at,
            Rtol = rt,
            EqualNan = p.GetValue(EqualNan),
            Renames = (p.GetValue(Map) ?? []).Select(RenameRule.Parse).ToList(),
            AutoMap = !p.GetValue(NoAutoMap),
        };
    }
}
