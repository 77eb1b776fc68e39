using WeightScope.Analysis;

namespace WeightScope.TorchSharp;

/// <summary>
/// Finds a prefix that one side's names carry and the other's do not — DataParallel's <c>module.</c>, a checkpoint's
/// <c>model_state_dict.</c> or <c>state_dict.</c>, Lightning's <c>model.</c>, torch.compile's <c>_orig_mod.</c>, or
/// several at once (<c>state_dict.module.</c>) — without a list of known ones: the prefix (ending in <c>.</c>) whose
/// removal pairs the most names, ranked as <c>diff</c> ranks them (<see cref="PrefixDetection"/>).
/// </summary>
internal static class NamePairing
{
    private static readonly char[] Dot = ['.'];

    /// <summary>
    /// The prefix of <paramref name="names"/> whose removal makes the most of them members of <paramref name="targets"/>,
    /// how many it pairs, and the runner-up when another prefix pairs as many (a checkpoint holding <c>model.</c> and
    /// <c>ema.</c> copies of one network: which one is meant is the user's call, never a guess); null when none pairs any.
    /// </summary>
    public static (string Prefix, int Pairs, string? Tie)? BestPrefix(IEnumerable<string> names, IReadOnlySet<string> targets)
    {
        var ranked = PrefixDetection.RankPrefixes(names, targets, Dot);
        if (ranked.Count == 0) return null;
        string? tie = ranked.Count > 1 && ranked[1].Pairs == ranked[0].Pairs ? ranked[1].Prefix : null;
        return (ranked[0].Prefix, ranked[0].Pairs, tie);
    }
}
