namespace WeightScope.Formats.PyTorch.Pickle;

/// <summary>C# interpretation of a call to an allow-listed global (never the Python callable itself).</summary>
internal delegate object? KnownCall(PickleCall call);

/// <summary>One call the unpickler is interpreting: which global, its arguments, where, and how to report an error.</summary>
internal sealed class PickleCall(PyGlobal global, PyTuple args, PyDict? kwargs, PickleOpcode opcode, long offset, PickleErrors errors)
{
    /// <summary>The global being called.</summary>
    public PyGlobal Global { get; } = global;

    /// <summary>Positional arguments.</summary>
    public PyTuple Args { get; } = args;

    /// <summary>Keyword arguments, or null.</summary>
    public PyDict? Kwargs { get; } = kwargs;

    /// <summary>REDUCE, NEWOBJ, NEWOBJ_EX, OBJ or INST.</summary>
    public PickleOpcode Opcode { get; } = opcode;

    /// <summary>Offset of the calling opcode.</summary>
    public long Offset { get; } = offset;

    /// <summary>Message factory bound to the format and entry being read.</summary>
    public PickleErrors Errors { get; } = errors;

    /// <summary>An inert stub for this call, for known globals whose result is kept as an object.</summary>
    public PyObject Stub() => new(Global, Args, Kwargs, Opcode, Offset);

    /// <summary>Argument <paramref name="index"/>, or an error naming the parameter when it is missing.</summary>
    public object? Arg(int index, string parameter)
    {
        if (index >= Args.Count)
            throw Errors.Invalid($"{Global.FullName} expects argument '{parameter}' (#{index + 1}) but was given {Args.Count} arguments", Offset);
        return Args[index];
    }

    /// <summary>Argument <paramref name="index"/> as a <typeparamref name="T"/>, or an error saying what was found.</summary>
    public T Arg<T>(int index, string parameter)
    {
        var v = Arg(index, parameter);
        if (v is T t) return t;
        throw Errors.Invalid($"{Global.FullName} argument '{parameter}' should be {typeof(T).Name} but is {PickleErrors.Describe(v)}", Offset);
    }

    /// <summary>An optional argument: the default when absent.</summary>
    public object? OptionalArg(int index) => index < Args.Count ? Args[index] : null;
}

/// <summary>
/// The allow-list: which module-level names the unpickler interprets, and how. A name not listed resolves to an inert
/// <see cref="PyGlobal"/> whose calls become <see cref="PyObject"/> stubs; nothing is ever imported or executed.
/// </summary>
internal sealed class PickleResolver
{
    private readonly Dictionary<string, KnownCall> _callables = new(StringComparer.Ordinal);
    private readonly Dictionary<string, object?> _constants = new(StringComparer.Ordinal);
    private readonly List<Func<string, string, object?>> _rules = [];

    /// <summary>Interprets calls to <c>module.name</c> with <paramref name="call"/>.</summary>
    public PickleResolver Callable(string module, string name, KnownCall call)
    {
        _callables[$"{module}.{name}"] = call;
        return this;
    }

    /// <summary>Marks <c>module.name</c> as known but keeps its calls as inert stubs (e.g. numpy's array reconstructor).</summary>
    public PickleResolver Inert(string module, string name) => Callable(module, name, c => c.Stub());

    /// <summary>Resolves <c>module.name</c> to a constant value (a dtype, a qscheme).</summary>
    public PickleResolver Constant(string module, string name, object? value)
    {
        _constants[$"{module}.{name}"] = value;
        return this;
    }

    /// <summary>
    /// A rule for whole families of names (torch's <c>*Storage</c> classes in any torch module): returns a constant,
    /// a <see cref="KnownCall"/>, or null when it does not apply.
    /// </summary>
    public PickleResolver Rule(Func<string, string, object?> rule)
    {
        _rules.Add(rule);
        return this;
    }

    /// <summary>
    /// The same allow-list with every interpretation replaced by an inert stub: for listing a pickle's globals without
    /// resolving anything it refers to (persistent ids stay <see cref="PyPersistentId"/>s).
    /// </summary>
    public PickleResolver WithoutInterpretation()
    {
        var r = new PickleResolver();
        foreach (var (name, value) in _constants) r._constants[name] = value;
        foreach (var name in _callables.Keys) r._callables[name] = c => c.Stub();
        foreach (var rule in _rules) r._rules.Add((m, n) => rule(m, n) is KnownCall ? (KnownCall)(c => c.Stub()) : rule(m, n));
        return r;
    }

    /// <summary>What GLOBAL pushes for <c>module.name</c>, and whether the allow-list knows it.</summary>
    public object? Resolve(string module, string name, out bool known)
    {
        string full = $"{module}.{name}";
        known = true;
        if (_constants.TryGetValue(full, out var constant)) return constant;
        if (_callables.TryGetValue(full, out var call)) return new PyGlobal(module, name, call);
        foreach (var rule in _rules)
        {
            switch (rule(module, name))
            {
                case null: continue;
                case KnownCall k: return new PyGlobal(module, name, k);
                case var v: return v;
            }
        }
        known = false;
        return new PyGlobal(module, name, null);
    }

    /// <summary>True when <c>module.name</c> is on the allow-list.</summary>
    public bool IsKnown(string module, string name)
    {
        Resolve(module, name, out bool known);
        return known;
    }
}

/// <summary>A module-level name a pickle referenced or called, with the opcode and offset: what a security scan classifies.</summary>
/// <param name="Module">Module part of the name; empty for a call of a value that is not a global.</param>
/// <param name="Name">Name within the module.</param>
/// <param name="Opcode">GLOBAL, STACK_GLOBAL, INST or EXTn for a reference; REDUCE, NEWOBJ, NEWOBJ_EX, OBJ or INST for a call.</param>
/// <param name="Offset">Offset of that opcode (within <paramref name="Entry"/> when given).</param>
/// <param name="Entry">Archive member the pickle came from, when it came from one.</param>
/// <param name="IsKnown">True when the allow-list interprets (or deliberately keeps inert) this name.</param>
/// <param name="IsCall">True when the record is of a call (the global was invoked), false for the reference that named it.</param>
internal sealed record GlobalReference(string Module, string Name, PickleOpcode Opcode, long Offset, string? Entry, bool IsKnown, bool IsCall)
{
    /// <summary><c>module.name</c> (just the name for calls of non-globals, whose module is empty).</summary>
    public string FullName => Module.Length == 0 ? Name : $"{Module}.{Name}";
}
