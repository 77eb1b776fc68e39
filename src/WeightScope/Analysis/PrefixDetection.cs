namespace WeightScope.Analysis;

/// <summary>
/// Finds a name prefix one file adds to the other's names — DataParallel's <c>module.</c>, Lightning's <c>model.</c>,
/// <c>state_dict.</c>, Keras' <c>model_weights/</c>, torch.compile's <c>_orig_mod.</c> — without a list of known ones:
/// any prefix ending in <c>.</c> or <c>/</c> whose removal pairs more names than before, and most names of the smaller file.
/// </summary>
internal static class PrefixDetection
{
    private static readonly char[] Separators = ['.', '/'];

    /// <summary>Strips the detected prefixes in place; returns what was stripped from each side (null: nothing).</summary>
    public static (string? A, string? B) Apply(List<string> a, List<string> b)
    {
        string? fromA = TryStrip(a, b);
        string? fromB = TryStrip(b, a);
        if (fromA is null && fromB is null)
        {
            // Both sides prefixed differently (module.x against model.x): strip the one leading component every name shares.
            var pa = CommonFirstComponent(a);
            var pb = CommonFirstComponent(b);
            if (pa is not null && pb is not null && pa != pb)
            {
                var sa = a.Select(n => n[pa.Length..]).ToList();
                var sb = b.Select(n => n[pb.Length..]).ToHashSet(StringComparer.Ordinal);
                if (IsWorthIt(Matches(a, b.ToHashSet(StringComparer.Ordinal)), sa.Count(sb.Contains), a.Count, b.Count)
                    && sa.Distinct().Count() == a.Count)
                {
                    a.Clear(); a.AddRange(sa);
                    var stripped = b.Select(n => n[pb.Length..]).ToList();
                    b.Clear(); b.AddRange(stripped);
                    return (pa, pb);
                }
            }
        }
        return (fromA, fromB);
    }

    // The prefix of `from`'s names whose removal pairs the most names with `to`, applied to `from` when worth it.
    private static string? TryStrip(List<string> from, List<string> to)
    {
        var target = to.ToHashSet(StringComparer.Ordinal);
        var own = from.ToHashSet(StringComparer.Ordinal);
        int before = Matches(from, target);
        var ranked = RankPrefixes(from.Where(n => !target.Contains(n)), target, Separators);
        if (ranked.Count == 0) return null;
        var best = ranked[0].Prefix;
        // Strip only where the result does not collide with another name of the same file.
        var stripped = from.Select(n => n.StartsWith(best, StringComparison.Ordinal) && !own.Contains(n[best.Length..]) ? n[best.Length..] : n).ToList();
        if (stripped.Distinct(StringComparer.Ordinal).Count() != stripped.Count) return null;
        if (!IsWorthIt(before, Matches(stripped, target), from.Count, to.Count)) return null;
        from.Clear();
        from.AddRange(stripped);
        return best;
    }

    private static bool IsWorthIt(int before, int after, int countA, int countB) => after > before && 2 * after > Math.Min(countA, countB);

    private static int Matches(List<string> names, HashSet<string> target) => names.Count(target.Contains);

    private static string? CommonFirstComponent(List<string> names)
    {
        if (names.Count == 0) return null;
        int i = names[0].IndexOfAny(Separators);
        if (i <= 0) return null;
        var p = names[0][..(i + 1)];
        return names.All(n => n.Length > p.Length && n.StartsWith(p, StringComparison.Ordinal)) ? p : null;
    }

    /// <summary>
    /// The prefixes of <paramref name="names"/> (ending in one of <paramref name="separators"/>) whose removal makes a
    /// name a member of <paramref name="target"/>, each with how many names it pairs: most first, then shortest, then
    /// ordinal. Shared with the TorchSharp loader, which pairs a file's names with a module's the same way.
    /// </summary>
    internal static List<(string Prefix, int Pairs)> RankPrefixes(IEnumerable<string> names, IReadOnlySet<string> target, char[] separators)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            for (int i = name.IndexOfAny(separators); i >= 0 && i < name.Length - 1; i = name.IndexOfAny(separators, i + 1))
            {
                if (target.Contains(name[(i + 1)..]))
                {
                    var p = name[..(i + 1)];
                    counts[p] = counts.GetValueOrDefault(p) + 1;
                }
            }
        }
        return [.. counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key.Length).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => (kv.Key, kv.Value))];
    }
}
