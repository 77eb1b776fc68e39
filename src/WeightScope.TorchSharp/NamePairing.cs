namespace WeightScope.TorchSharp;

/// <summary>
/// Finds a prefix that one side's names carry and the other's do not — DataParallel's <c>module.</c>, a checkpoint's
/// <c>model_state_dict.</c> or <c>state_dict.</c>, Lightning's <c>model.</c>, torch.compile's <c>_orig_mod.</c>, or
/// several at once (<c>state_dict.module.</c>) — without a list of known ones: the prefix (ending in <c>.</c>) whose
/// removal pairs the most names.
/// </summary>
internal static class NamePairing
{
    /// <summary>
    /// The prefix of <paramref name="names"/> whose removal makes the most of them members of <paramref name="targets"/>,
    /// how many it pairs, and the runner-up when another prefix pairs as many (a checkpoint holding <c>model.</c> and
    /// <c>ema.</c> copies of one network: which one is meant is the user's call, never a guess); null when none pairs any.
    /// </summary>
    public static (string Prefix, int Pairs, string? Tie)? BestPrefix(IEnumerable<string> names, IReadOnlySet<string> targets)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            for (int i = name.IndexOf('.'); i >= 0 && i < name.Length - 1; i = name.IndexOf('.', i + 1))
                if (targets.Contains(name[(i + 1)..]))
                {
                    var p = name[..(i + 1)];
                    counts[p] = counts.GetValueOrDefault(p) + 1;
                }
        }
        if (counts.Count == 0) return null;
        var ranked = counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key.Length).ThenBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        string? tie = ranked.Count > 1 && ranked[1].Value == ranked[0].Value ? ranked[1].Key : null;
        return (ranked[0].Key, ranked[0].Value, tie);
    }
}
