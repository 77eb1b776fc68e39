using System.Collections;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace WeightScope.Tensors;

/// <summary>The tensors of a model file, in file order, indexed by name (like an ordered <c>state_dict()</c>).</summary>
public sealed class TensorCollection : IReadOnlyList<TensorEntry>
{
    private readonly List<TensorEntry> _list;
    private readonly Dictionary<string, TensorEntry> _byName;

    /// <summary>Creates a collection. Names must be unique.</summary>
    /// <exception cref="ArgumentException">Two tensors have the same name.</exception>
    public TensorCollection(IEnumerable<TensorEntry> tensors)
    {
        _list = [.. tensors];
        _byName = new Dictionary<string, TensorEntry>(_list.Count, StringComparer.Ordinal);
        foreach (var t in _list)
            if (!_byName.TryAdd(t.Name, t)) throw new ArgumentException($"duplicate tensor name '{t.Name}'");
    }

    /// <summary>An empty collection.</summary>
    public static TensorCollection Empty { get; } = new([]);

    /// <inheritdoc />
    public TensorEntry this[int index] => _list[index];

    /// <summary>The tensor with this name.</summary>
    /// <exception cref="KeyNotFoundException">No tensor has this name; the message suggests close names.</exception>
    public TensorEntry this[string name] => _byName.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException(NotFoundMessage(name));

    /// <inheritdoc />
    public int Count => _list.Count;

    /// <summary>Counts of tensors, parameters and bytes, per dtype and role, with shared storages counted once.</summary>
    public TensorTotals Totals => _totals ??= TensorTotals.Compute(_list); // on first use: loading a file into a module never needs it

    private TensorTotals? _totals;

    /// <summary>
    /// Elements of the model's own tensors (parameters, buffers and unclassified tensors; optimizer state excluded),
    /// each view of a storage counted once — <c>count_params()</c> for a Keras model, the state dict's numel sum for PyTorch.
    /// </summary>
    public long ParameterCount => Totals.Parameters;

    /// <summary>Total bytes of the distinct storages behind the tensors.</summary>
    public long ByteSize => Totals.Bytes;

    /// <summary>Looks a tensor up by name.</summary>
    public bool TryGet(string name, out TensorEntry tensor) => _byName.TryGetValue(name, out tensor!);

    /// <summary>True when a tensor has this name.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>
    /// Tensors whose name matches a glob (<c>*</c> any run of characters, <c>?</c> one character, <c>[abc]</c> a set).
    /// A pattern without wildcards matches names that contain it, as <c>'fc1' in name</c> does in Python.
    /// </summary>
    public IEnumerable<TensorEntry> Match(string glob)
    {
        var re = GlobToRegex(glob);
        return _list.Where(t => re.IsMatch(t.Name));
    }

    /// <summary>Tensors whose name matches a regular expression (anywhere in the name, like <c>re.search</c>).</summary>
    public IEnumerable<TensorEntry> MatchRegex(string pattern)
    {
        var re = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        return _list.Where(t => re.IsMatch(t.Name));
    }

    /// <summary>Builds the regex a glob stands for (see <see cref="Match"/>).</summary>
    public static Regex GlobToRegex(string glob)
    {
        if (glob.IndexOfAny(['*', '?', '[']) < 0) return new Regex(Regex.Escape(glob), RegexOptions.CultureInvariant);
        var sb = new System.Text.StringBuilder("^");
        for (int i = 0; i < glob.Length; i++)
        {
            char c = glob[i];
            if (c == '*') sb.Append(".*");
            else if (c == '?') sb.Append('.');
            // As fnmatch: a ']' right after '[' belongs to the set; a '[' with no closing ']' is literal.
            else if (c == '[' && glob.IndexOf(']', Math.Min(i + 2, glob.Length)) is int close and > 0)
            {
                var set = glob[(i + 1)..close];
                sb.Append('[').Append(set.StartsWith('!') ? "^" + Regex.Escape(set[1..]) : Regex.Escape(set)).Append(']');
                i = close;
            }
            else sb.Append(Regex.Escape(c.ToString()));
        }
        return new Regex(sb.Append('$').ToString(), RegexOptions.CultureInvariant);
    }

    private string NotFoundMessage(string name)
    {
        var close = _list.Select(t => t.Name)
            .Where(n => n.Contains(name, StringComparison.OrdinalIgnoreCase) || name.Contains(n, StringComparison.OrdinalIgnoreCase)
                        || n.EndsWith(name.Split('.').Last(), StringComparison.Ordinal))
            .Take(5).ToList();
        return close.Count > 0
            ? $"no tensor named '{name}'; similar: {string.Join(", ", close)}"
            : $"no tensor named '{name}' ({_list.Count} tensors; list them with 'weightscope list')";
    }

    /// <inheritdoc />
    public IEnumerator<TensorEntry> GetEnumerator() => _list.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>Counts over a set of tensors.</summary>
/// <param name="Tensors">Number of tensors.</param>
/// <param name="Parameters">Elements of every tensor but optimizer state, identical views of one storage (tied weights) counted once.</param>
/// <param name="Elements">Elements of every tensor, optimizer state included, identical views counted once.</param>
/// <param name="Bytes">Bytes of the distinct storages (what the values occupy), each counted once.</param>
/// <param name="ByDType">Per dtype name: tensors, elements, and storage bytes (each storage counted in the group of its first tensor, so the groups add up to <paramref name="Bytes"/>).</param>
/// <param name="ByRole">Per role, counted the same way.</param>
/// <param name="SharedStorages">Storages referenced by more than one tensor, with the tensors' names.</param>
public sealed record TensorTotals(
    int Tensors, long Parameters, long Elements, long Bytes,
    IReadOnlyDictionary<string, TotalsGroup> ByDType,
    IReadOnlyDictionary<TensorRole, TotalsGroup> ByRole,
    IReadOnlyList<SharedStorage> SharedStorages)
{
    internal static TensorTotals Compute(IReadOnlyList<TensorEntry> tensors)
    {
        // String keys and reference-type keys: the framework's shared, precompiled generic code serves them, so counting
        // adds little JIT work to the CLI's start-up (collections over framework value types would each be compiled).
        long parameters = 0, elements = 0, bytes = 0;
        var byDType = new Dictionary<string, TotalsGroup>(StringComparer.Ordinal);
        var byRole = new Dictionary<string, TotalsGroup>(StringComparer.Ordinal);
        var storageUsers = new Dictionary<TensorStorage, List<TensorEntry>>(ReferenceEqualityComparer.Instance);
        // Views are compared only among the tensors of a shared storage (tied weights, TorchScript views): a file of
        // 600,000 tensors, each over its own storage, builds no view keys at all.
        HashSet<ViewKey>? seenViews = null;
        foreach (var t in tensors)
        {
            bool firstView = true;
            long storageBytes = 0;
            if (!storageUsers.TryGetValue(t.Storage, out var users))
            {
                storageUsers[t.Storage] = users = [];
                storageBytes = t.Storage.ByteLength;
                bytes += storageBytes;
            }
            else
            {
                seenViews ??= new HashSet<ViewKey>();
                if (users.Count == 1) seenViews.Add(ViewKey.Of(users[0]));
                firstView = seenViews.Add(ViewKey.Of(t));
            }
            users.Add(t);
            long n = firstView ? t.ElementCount : 0;
            elements += n;
            if (t.Role != TensorRole.OptimizerState) parameters += n;
            Add(byDType, t.DType.Name(), n, storageBytes);
            Add(byRole, t.Role.ToString(), n, storageBytes);
        }
        var shared = storageUsers.Where(kv => kv.Value.Count > 1)
            .Select(kv => new SharedStorage(kv.Key.Key, kv.Key.ByteLength, kv.Value.Select(t => t.Name).ToList())).ToList();
        var roles = new Dictionary<TensorRole, TotalsGroup>();
        foreach (var role in Enum.GetValues<TensorRole>())
            if (byRole.TryGetValue(role.ToString(), out var g)) roles[role] = g;
        return new TensorTotals(tensors.Count, parameters, elements, bytes, Sorted(byDType), roles, shared);
    }

    private sealed record ViewKey(TensorStorage Storage, long Offset, Shape Shape, string Strides)
    {
        public static ViewKey Of(TensorEntry t) => new(t.Storage, t.StorageOffset, t.Shape, string.Join(",", t.Strides));

        public bool Equals(ViewKey? other) => other is not null && ReferenceEquals(Storage, other.Storage) && Offset == other.Offset
                                              && Shape.Equals(other.Shape) && Strides == other.Strides;

        public override int GetHashCode() => HashCode.Combine(RuntimeHelpers.GetHashCode(Storage), Offset, Shape, Strides);
    }

    private static Dictionary<string, TotalsGroup> Sorted(Dictionary<string, TotalsGroup> d)
    {
        var keys = d.Keys.ToArray();
        Array.Sort(keys, StringComparer.Ordinal);
        var result = new Dictionary<string, TotalsGroup>(StringComparer.Ordinal);
        foreach (var k in keys) result[k] = d[k];
        return result;
    }

    private static void Add(Dictionary<string, TotalsGroup> d, string key, long elements, long bytes)
    {
        d.TryGetValue(key, out var g);
        g ??= new TotalsGroup(0, 0, 0);
        d[key] = new TotalsGroup(g.Tensors + 1, g.Parameters + elements, g.Bytes + bytes);
    }
}

/// <summary>Counts for one dtype or role: tensors, elements (identical views once), storage bytes (each storage once overall).</summary>
public sealed record TotalsGroup(int Tensors, long Parameters, long Bytes);

/// <summary>A storage behind several tensors (tied weights, views).</summary>
public sealed record SharedStorage(string Key, long Bytes, IReadOnlyList<string> TensorNames);
