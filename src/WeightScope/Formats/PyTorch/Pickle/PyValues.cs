using System.Collections;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace WeightScope.Formats.PyTorch.Pickle;

// The inert object model the unpickler builds. None, bool, int, float, str and bytes are plain .NET values
// (null, bool, long or BigInteger, double, string, byte[]); everything else is one of the types below.
// Nothing here ever runs code from the file: a class reference is a PyGlobal (a name), an instance of an
// unknown class is a PyObject that only records what the pickle said about it.

/// <summary>An object whose state a BUILD opcode can set (Python's <c>__setstate__</c> / <c>__dict__.update</c>).</summary>
internal interface IPickleBuildable
{
    /// <summary>Applies a BUILD state.</summary>
    void Build(object? state);
}

/// <summary>A Python tuple.</summary>
internal sealed class PyTuple(object?[] items) : IReadOnlyList<object?>
{
    /// <summary>The empty tuple.</summary>
    public static PyTuple Empty { get; } = new([]);

    /// <summary>The items.</summary>
    public object?[] Items { get; } = items;

    /// <inheritdoc />
    public object? this[int index] => Items[index];

    /// <inheritdoc />
    public int Count => Items.Length;

    /// <inheritdoc />
    public IEnumerator<object?> GetEnumerator() => ((IEnumerable<object?>)Items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public override string ToString() => $"tuple[{Count}]";
}

/// <summary>A Python list.</summary>
internal sealed class PyList : IReadOnlyList<object?>
{
    /// <summary>Creates a list.</summary>
    public PyList(IEnumerable<object?>? items = null) => Items = [.. items ?? []];

    /// <summary>The items (mutable while unpickling).</summary>
    public List<object?> Items { get; }

    /// <inheritdoc />
    public object? this[int index] => Items[index];

    /// <inheritdoc />
    public int Count => Items.Count;

    /// <inheritdoc />
    public IEnumerator<object?> GetEnumerator() => Items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public override string ToString() => $"list[{Count}]";
}

/// <summary>
/// A Python dict (or an OrderedDict, or another dict-like class the allow-list interprets): insertion-ordered,
/// keys of any type compared as Python would compare hashable keys (1 == 1.0 == True, tuples by value).
/// </summary>
internal sealed class PyDict : IPickleBuildable
{
    private readonly List<KeyValuePair<object?, object?>> _items = [];
    private readonly Dictionary<PyKey, int> _index = [];

    /// <summary>Creates an empty dict of the given Python class.</summary>
    public PyDict(string className = "builtins.dict") => ClassName = className;

    /// <summary>Python class, e.g. <c>builtins.dict</c> or <c>collections.OrderedDict</c>.</summary>
    public string ClassName { get; }

    /// <summary>Entries in insertion order.</summary>
    public IReadOnlyList<KeyValuePair<object?, object?>> Items => _items;

    /// <summary>Number of entries.</summary>
    public int Count => _items.Count;

    /// <summary>Instance attributes set by BUILD (an OrderedDict state dict's <c>_metadata</c>), or null.</summary>
    public object? State { get; private set; }

    /// <summary>Sets <c>dict[key] = value</c>, keeping the original position of an existing key as Python does.</summary>
    public void Set(object? key, object? value)
    {
        var k = new PyKey(key);
        if (_index.TryGetValue(k, out int i)) _items[i] = new(_items[i].Key, value);
        else
        {
            _index[k] = _items.Count;
            _items.Add(new(key, value));
        }
    }

    /// <summary>Looks up a key.</summary>
    public bool TryGetValue(object? key, out object? value)
    {
        if (_index.TryGetValue(new PyKey(key), out int i))
        {
            value = _items[i].Value;
            return true;
        }
        value = null;
        return false;
    }

    /// <summary>True when the key is present.</summary>
    public bool ContainsKey(object? key) => _index.ContainsKey(new PyKey(key));

    /// <inheritdoc />
    public void Build(object? state) => State = PyObject.MergeState(State, state);

    /// <inheritdoc />
    public override string ToString() => $"{ClassName}[{Count}]";
}

/// <summary>A Python set or frozenset (insertion-ordered here, for stable output).</summary>
internal sealed class PySet(bool frozen) : IReadOnlyCollection<object?>
{
    private readonly List<object?> _items = [];
    private readonly HashSet<PyKey> _seen = [];

    /// <summary>True for a frozenset.</summary>
    public bool IsFrozen { get; } = frozen;

    /// <summary>Adds an item (no effect when already present).</summary>
    public void Add(object? item)
    {
        if (_seen.Add(new PyKey(item))) _items.Add(item);
    }

    /// <inheritdoc />
    public int Count => _items.Count;

    /// <inheritdoc />
    public IEnumerator<object?> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A Python <c>slice(start, stop, step)</c>.</summary>
internal sealed record PySlice(object? Start, object? Stop, object? Step);

/// <summary>
/// A reference to a module-level name (a class or function) as GLOBAL/STACK_GLOBAL/INST named it. It is only a name:
/// when the allow-list knows it, <see cref="Known"/> interprets calls to it in C#; otherwise calls produce a <see cref="PyObject"/>.
/// </summary>
internal sealed class PyGlobal(string module, string name, KnownCall? known)
{
    /// <summary>Module, e.g. <c>torch._utils</c>.</summary>
    public string Module { get; } = module;

    /// <summary>Name within the module, e.g. <c>_rebuild_tensor_v2</c>.</summary>
    public string Name { get; } = name;

    /// <summary><c>module.name</c>.</summary>
    public string FullName => $"{Module}.{Name}";

    /// <summary>The C# interpretation of calls, when the allow-list has one.</summary>
    public KnownCall? Known { get; } = known;

    /// <inheritdoc />
    public override string ToString() => FullName;
}

/// <summary>
/// An inert instance of a class the allow-list does not interpret (a pickled <c>nn.Module</c>, a custom config class…):
/// the callable that would have made it, its arguments, and whatever state and items the pickle then gave it.
/// </summary>
internal sealed class PyObject(object? callable, PyTuple args, PyDict? kwargs, PickleOpcode createdBy, long offset) : IPickleBuildable
{
    /// <summary>The class or function that would have produced the object (usually a <see cref="PyGlobal"/>).</summary>
    public object? Callable { get; } = callable;

    /// <summary>Positional arguments of the call.</summary>
    public PyTuple Args { get; } = args;

    /// <summary>Keyword arguments (NEWOBJ_EX), or null.</summary>
    public PyDict? Kwargs { get; } = kwargs;

    /// <summary>REDUCE, NEWOBJ, NEWOBJ_EX, OBJ or INST.</summary>
    public PickleOpcode CreatedBy { get; } = createdBy;

    /// <summary>Offset of the creating opcode.</summary>
    public long Offset { get; } = offset;

    /// <summary>State set by BUILD (usually the instance <c>__dict__</c> as a <see cref="PyDict"/>), or null.</summary>
    public object? State { get; private set; }

    /// <summary>Items appended by APPEND/APPENDS (list subclasses) or ADDITEMS, or null.</summary>
    public List<object?>? ListItems { get; private set; }

    /// <summary>Entries set by SETITEM/SETITEMS (dict subclasses), or null.</summary>
    public PyDict? DictItems { get; private set; }

    /// <summary>The class when <see cref="Callable"/> is a global.</summary>
    public PyGlobal? Class => Callable as PyGlobal;

    /// <summary>Qualified class name, e.g. <c>torch.nn.modules.linear.Linear</c>.</summary>
    public string TypeName => Callable switch
    {
        PyGlobal g => g.FullName,
        PyObject o => $"{o.TypeName}(…)",
        _ => "<unknown callable>",
    };

    /// <summary>The state as a dict, when it is one (the usual <c>__dict__</c> case, or the first part of a (dict, slots) pair).</summary>
    public PyDict? StateDict => State switch
    {
        PyDict d => d,
        PyTuple { Count: 2 } t when t[0] is PyDict d => d,
        _ => null,
    };

    /// <inheritdoc />
    public void Build(object? state) => State = MergeState(State, state);

    /// <summary>Records an appended item.</summary>
    public void Append(object? item) => (ListItems ??= []).Add(item);

    /// <summary>Records a set item.</summary>
    public void SetItem(object? key, object? value) => (DictItems ??= new PyDict()).Set(key, value);

    // A second BUILD updates __dict__ in Python; merge dicts, otherwise the later state wins.
    internal static object? MergeState(object? current, object? state)
    {
        if (current is PyDict a && state is PyDict b)
        {
            foreach (var kv in b.Items) a.Set(kv.Key, kv.Value);
            return a;
        }
        return state;
    }

    /// <inheritdoc />
    public override string ToString() => $"<{TypeName}>";
}

/// <summary>A persistent id the reader did not resolve (kept inert).</summary>
internal sealed record PyPersistentId(object? Payload);

/// <summary>A dictionary key with Python's hashable-key equality (numbers by value across bool/int/float, str, bytes, tuples by value).</summary>
/// <remarks>A class, not a struct: collections keyed by a reference type run the framework's shared, precompiled code,
/// where a struct key would make the CLI JIT every Dictionary method it uses at start-up.</remarks>
internal sealed class PyKey(object? value) : IEquatable<PyKey>
{
    // Tuples are compared by value only this deep; deeper (hostile) nesting falls back to identity.
    private const int MaxDepth = 32;

    public object? Value { get; } = value;

    public bool Equals(PyKey? other) => other is not null && KeyEquals(Value, other.Value, 0);

    public override bool Equals(object? obj) => Equals(obj as PyKey);

    public override int GetHashCode() => KeyHash(Value, 0);

    private static bool KeyEquals(object? a, object? b, int depth)
    {
        if (ReferenceEquals(a, b)) return true;
        if (a is null || b is null) return false;
        if (Numeric(a) is { } na && Numeric(b) is { } nb) return na.Equals(nb);
        switch (a)
        {
            case string s: return b is string t && s == t;
            case byte[] x: return b is byte[] y && x.AsSpan().SequenceEqual(y);
            case PyGlobal g: return b is PyGlobal h && g.FullName == h.FullName;
            case PyTuple ta when b is PyTuple tb && depth < MaxDepth:
                if (ta.Count != tb.Count) return false;
                for (int i = 0; i < ta.Count; i++)
                    if (!KeyEquals(ta[i], tb[i], depth + 1)) return false;
                return true;
            default: return false;
        }
    }

    private static int KeyHash(object? v, int depth)
    {
        if (v is null) return 0;
        if (Numeric(v) is { } n) return n.GetHashCode();
        switch (v)
        {
            case string s: return s.GetHashCode(StringComparison.Ordinal);
            case byte[] b:
                {
                    var h = new HashCode();
                    h.AddBytes(b.AsSpan(0, Math.Min(b.Length, 64)));
                    h.Add(b.Length);
                    return h.ToHashCode();
                }
            case PyGlobal g: return g.FullName.GetHashCode(StringComparison.Ordinal);
            case PyTuple t when depth < MaxDepth:
                {
                    var h = new HashCode();
                    h.Add(t.Count);
                    for (int i = 0; i < Math.Min(t.Count, 8); i++) h.Add(KeyHash(t[i], depth + 1));
                    return h.ToHashCode();
                }
            default: return RuntimeHelpers.GetHashCode(v);
        }
    }

    // Python: True == 1 == 1.0 and hash(True) == hash(1) == hash(1.0). Integral values become BigInteger, others stay double.
    private static object? Numeric(object v) => v switch
    {
        bool b => new BigInteger(b ? 1 : 0),
        long l => new BigInteger(l),
        BigInteger bi => bi,
        double d when double.IsFinite(d) && Math.Floor(d) == d => new BigInteger(d),
        double d => d,
        _ => null,
    };
}
