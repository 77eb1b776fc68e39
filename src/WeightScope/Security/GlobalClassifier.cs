namespace WeightScope.Security;

/// <summary>
/// Classifies a pickle global by an allow-list. Safe is what <c>torch.load(weights_only=True)</c> imports by default
/// (torch 1.13's <c>_weights_only_unpickler._get_allowed_globals()</c> and what torch 2.x added to it), TorchScript's
/// list builders, numpy's array reconstruction, joblib's array wrapper and a few constructors of plain values (see
/// <see cref="SafeReason"/>): calling any of them builds data and nothing else. Anything else is not safe: dangerous
/// when it is known to run commands or code, import, open files or sockets, load other pickles or reach arbitrary
/// attributes (a listed module's submodules are listed too), suspicious otherwise. Only safe lets a file pass.
/// </summary>
public static class GlobalClassifier
{
    private const string TorchDefault = "allowed by torch.load(weights_only=True)";

    // torch 1.13 _get_allowed_globals() (its keys are printed by a test) and torch 2.x's additions (torch/_weights_only_unpickler.py).
    private static readonly HashSet<string> TorchSafe = new(StringComparer.Ordinal)
    {
        "collections.OrderedDict", "torch.nn.parameter.Parameter", "torch.serialization._get_layout", "torch.Size", "torch.Tensor",
        "torch.complex32", "torch.complex64", "torch.complex128", "torch.float16", "torch.float32", "torch.float64",
        "torch.int8", "torch.int16", "torch.int32", "torch.int64",
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_meta_tensor_no_storage", "torch._utils._rebuild_sparse_csr_tensor",
        "torch.storage.TypedStorage", "torch.storage.UntypedStorage",
        // torch 2.x: more dtypes, quantized tensors and their schemes, devices, tensor subclasses, and the plain values
        // (bytes via _codecs.encode, bytearray, set, complex, Counter) protocol 2 writes through globals.
        "collections.Counter", "torch.device", "_codecs.encode", "builtins.bytearray", "builtins.set", "builtins.complex",
        "torch.bfloat16", "torch.bool", "torch.uint8", "torch.uint16", "torch.uint32", "torch.uint64",
        "torch.quint8", "torch.qint8", "torch.qint32", "torch.quint4x2", "torch.quint2x4",
        "torch.float8_e4m3fn", "torch.float8_e5m2", "torch.float8_e4m3fnuz", "torch.float8_e5m2fnuz", "torch.float8_e8m0fnu",
        "torch.float4_e2m1fn_x2", "torch.bits1x8", "torch.bits2x4", "torch.bits4x2", "torch.bits8", "torch.bits16",
        "torch.uint1", "torch.uint2", "torch.uint3", "torch.uint4", "torch.uint5", "torch.uint6", "torch.uint7",
        "torch.int1", "torch.int2", "torch.int3", "torch.int4", "torch.int5", "torch.int6", "torch.int7",
        "torch.per_tensor_affine", "torch.per_channel_affine", "torch.per_tensor_symmetric", "torch.per_channel_symmetric",
        "torch.per_channel_affine_float_qparams",
        "torch._utils._rebuild_qtensor", "torch._utils._rebuild_parameter_with_state", "torch._utils._rebuild_tensor_v3",
        "torch._utils._rebuild_wrapper_subclass", "torch._utils._rebuild_device_tensor_from_numpy",
        "torch._utils._rebuild_device_tensor_from_cpu_tensor", "torch._tensor._rebuild_from_type_v2",
    };

    // Not in torch's list, and judged here to build data only (each documented in Security/README.md).
    private static readonly Dictionary<string, string> OtherSafe = new(StringComparer.Ordinal)
    {
        // TorchScript's constants.pkl: torch/jit/_pickle.py, each returns its argument.
        ["torch.jit._pickle.build_intlist"] = "TorchScript list builder (returns its argument)",
        ["torch.jit._pickle.build_doublelist"] = "TorchScript list builder (returns its argument)",
        ["torch.jit._pickle.build_boollist"] = "TorchScript list builder (returns its argument)",
        ["torch.jit._pickle.build_tensorlist"] = "TorchScript list builder (returns its argument)",
        ["torch.jit._pickle.build_tensor_from_id"] = "TorchScript list builder (returns its argument)",
        ["torch.jit._pickle.restore_type_tag"] = "TorchScript type tag (returns its argument)",
        // np.save/np.load of object arrays, and numpy scalars.
        ["numpy.core.multiarray._reconstruct"] = "numpy array reconstruction",
        ["numpy._core.multiarray._reconstruct"] = "numpy array reconstruction",
        ["numpy.ndarray"] = "numpy array reconstruction",
        ["numpy.dtype"] = "numpy array reconstruction",
        ["numpy.core.multiarray.scalar"] = "numpy scalar reconstruction",
        ["numpy._core.multiarray.scalar"] = "numpy scalar reconstruction",
        // joblib.dump's array placeholder: made with __new__ and a __dict__ update; joblib then reads the array's bytes.
        ["joblib.numpy_pickle.NumpyArrayWrapper"] = "joblib's array wrapper (its state is data; joblib reads the array after it)",
        ["sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper"] = "joblib's array wrapper (its state is data; joblib reads the array after it)",
        // Constructors of plain values that protocols 0-2 write as globals.
        ["builtins.frozenset"] = "builds a frozenset",
        ["builtins.slice"] = "builds a slice",
        ["builtins.range"] = "builds a range",
        ["builtins.bytes"] = "builds bytes (protocols 0-2 write empty bytes this way)",
        ["builtins.object"] = "the base class protocols 0-1 name when rebuilding an object",
        ["copyreg._reconstructor"] = "protocols 0-1 object rebuild: calls only __new__/__init__ of the classes the pickle names, each judged itself",
        ["copyreg.__newobj__"] = "cls.__new__(cls, *args) (what NEWOBJ does): the class is judged itself",
        ["copyreg.__newobj_ex__"] = "cls.__new__(cls, *args, **kwargs) (what NEWOBJ_EX does): the class is judged itself",
    };

    private static readonly string[] TensorKinds =
        ["BFloat16", "Bool", "Byte", "Char", "ComplexDouble", "ComplexFloat", "Double", "Float", "Half", "Int", "Long", "Short",
         "QInt32", "QInt8", "QUInt2x4", "QUInt4x2", "QUInt8"];

    // Dangerous by full-name prefix: an entry matches module.name when it equals it or is a dotted prefix of it, so a
    // listed module covers its submodules and every attribute ("os" covers os.system and os.path.join, not osx).
    // Sources: CPython's docs for each module, picklescan's and modelscan's lists, and the 2025 picklescan advisories.
    private static readonly (string Prefix, string Why)[] Dangerous =
    [
        // Commands, processes, code.
        ("os", "runs commands and touches files"), ("posix", "runs commands and touches files (os on POSIX)"),
        ("nt", "runs commands and touches files (os on Windows)"), ("subprocess", "runs commands"), ("_posixsubprocess", "runs commands"),
        ("pty", "runs commands"), ("commands", "runs commands"), ("platform", "runs commands (platform.popen)"),
        ("uuid", "runs commands (uuid._get_command_stdout)"), ("_osx_support", "runs commands (_osx_support._read_output)"),
        ("_aix_support", "runs commands"), ("imaplib", "runs commands (IMAP4_stream) and opens sockets"),
        ("asyncio", "runs commands (create_subprocess_shell) and opens sockets"), ("multiprocessing", "runs code in other processes"),
        ("concurrent", "runs callables in other threads or processes"), ("_thread", "runs callables in threads"), ("threading", "runs callables in threads"),
        ("signal", "installs signal handlers"), ("sys", "reaches the interpreter's state and modules"),
        ("runpy", "runs modules and code"), ("code", "runs code (code.InteractiveInterpreter)"), ("codeop", "compiles code"),
        ("timeit", "runs code (timeit.timeit)"), ("cProfile", "runs code (cProfile.run)"), ("profile", "runs code (profile.run)"),
        ("_lsprof", "runs code"), ("trace", "runs code (trace.Trace.run)"), ("doctest", "runs code (doctest examples, debug_script)"),
        ("pdb", "runs code under the debugger"), ("bdb", "runs code under the debugger"), ("idlelib", "runs code (IDLE's shell and executive)"),
        ("pydoc", "imports anything (pydoc.locate) and runs commands (pydoc.pipepager)"), ("inspect", "reaches arbitrary objects"),
        ("types", "builds functions and code objects"), ("ctypes", "calls native code (ctypes.pythonapi, CDLL)"), ("_ctypes", "calls native code"),
        ("gc", "reaches every live object"), ("logging.config", "evaluates configuration (logging.config.listen, fileConfig)"),
        ("lib2to3", "loads pickles (lib2to3.pgen2.grammar.Grammar.loads) and writes files"),
        ("importlib", "imports modules"), ("pkgutil", "imports modules"), ("zipimport", "imports modules"), ("imp", "imports modules"),
        ("site", "imports modules and runs .pth files"), ("builtins.__import__", "imports modules"),
        ("builtins.eval", "runs code"), ("builtins.exec", "runs code"), ("builtins.compile", "compiles code"),
        ("builtins.execfile", "runs code"), ("builtins.breakpoint", "runs the debugger"), ("builtins.input", "reads the terminal"),
        ("builtins.help", "runs pydoc's interactive help"), ("builtins.exit", "exits the interpreter"), ("builtins.quit", "exits the interpreter"),
        ("builtins.apply", "calls a callable"), ("builtins.reload", "re-imports modules"),
        ("builtins.getattr", "reaches arbitrary attributes"), ("builtins.setattr", "changes arbitrary attributes"),
        ("builtins.delattr", "removes arbitrary attributes"), ("builtins.globals", "reaches the interpreter's globals"),
        ("builtins.locals", "reaches the interpreter's locals"), ("builtins.vars", "reaches arbitrary namespaces"),
        ("builtins.open", "opens files"), ("builtins.file", "opens files"),
        ("operator", "reaches arbitrary attributes and items, calls methods (attrgetter, itemgetter, methodcaller)"),
        ("_operator", "reaches arbitrary attributes and items, calls methods (attrgetter, itemgetter, methodcaller)"),
        ("functools.partial", "calls a callable with stored arguments"), ("functools.reduce", "calls a callable"),
        ("_functools", "calls callables (partial, reduce)"),
        // Files, archives, sockets, the network.
        ("io", "opens files (io.open)"), ("_io", "opens files"), ("pathlib", "reads and writes files"), ("shutil", "copies, moves and deletes files"),
        ("tempfile", "creates files"), ("fileinput", "reads files"), ("linecache", "reads files"), ("glob", "lists files"),
        ("codecs.open", "opens files"), ("_codecs.open", "opens files"), ("mmap", "maps files"), ("fcntl", "controls file descriptors"),
        ("tarfile", "extracts archives (writes files)"), ("zipfile", "extracts archives (writes files)"), ("shelve", "opens pickle databases"),
        ("dbm", "opens database files"), ("sqlite3", "opens database files"), ("resource", "changes process limits"), ("select", "waits on descriptors"),
        ("socket", "opens sockets"), ("_socket", "opens sockets"), ("ssl", "opens network connections"), ("http", "opens network connections"),
        ("urllib", "opens network connections"), ("requests", "opens network connections"), ("aiohttp", "opens network connections"),
        ("httplib", "opens network connections"), ("ftplib", "opens network connections"), ("smtplib", "opens network connections"),
        ("telnetlib", "opens network connections"), ("poplib", "opens network connections"), ("nntplib", "opens network connections"),
        ("xmlrpc", "opens network connections"), ("socketserver", "opens sockets"), ("webbrowser", "runs a browser"),
        // Installers and build tools: they run setup scripts.
        ("pip", "installs packages (runs their setup code)"), ("ensurepip", "installs packages"), ("venv", "creates environments and runs pip"),
        ("setuptools", "runs setup code"), ("distutils", "runs setup code, writes files"), ("numpy.distutils", "runs setup code"),
        // Loaders of other pickles and code.
        ("pickle", "loads other pickles"), ("_pickle", "loads other pickles"), ("marshal", "loads code objects"),
        ("dill", "loads pickles and code"), ("cloudpickle", "loads pickles and builds functions from code"),
        ("joblib.externals.cloudpickle", "loads pickles and builds functions from code"), ("joblib.externals.loky", "runs code in worker processes"),
        ("joblib.load", "loads another pickle"), ("joblib.numpy_pickle.load", "loads another pickle"),
        ("joblib.numpy_pickle_compat", "loads another file by name with allow_pickle=True (NDArrayWrapper, joblib < 0.10)"),
        ("sklearn.externals.joblib.numpy_pickle_compat", "loads another file by name with allow_pickle=True (NDArrayWrapper, joblib < 0.10)"),
        ("pandas.read_pickle", "loads another pickle"), ("pandas.io.pickle", "loads another pickle"),
        ("numpy.load", "loads arrays and pickles from files"), ("numpy.loads", "loads a pickle"), ("numpy.core.numeric.loads", "loads a pickle"),
        ("numpy.lib.npyio", "loads arrays and pickles from files"), ("numpy.lib.format", "reads arrays and pickles from files"),
        ("numpy.loadtxt", "reads files"), ("numpy.genfromtxt", "reads files"), ("numpy.fromfile", "reads files"), ("numpy.memmap", "maps files"),
        ("numpy.core.memmap", "maps files"), ("numpy.save", "writes files"), ("numpy.tofile", "writes files"), ("numpy.ctypeslib", "loads native libraries"),
        ("numpy.f2py", "evaluates strings (crackfortran.myeval, getlincoef) and runs compilers"),
        ("numpy.testing", "runs code (numpy.testing._private.utils.runstring)"),
        ("torch.load", "loads another pickle"), ("torch.serialization.load", "loads another pickle"), ("torch.save", "writes files"),
        ("torch.storage._load_from_bytes", "loads a pickle (torch.load of bytes)"), ("torch.jit.load", "loads TorchScript code"),
        ("torch._C._jit_load", "loads TorchScript code"), ("torch.package", "imports code from a package archive"), ("torch.hub", "downloads and runs code"),
        ("torch.jit.unsupported_tensor_ops", "runs code (execWrapper)"), ("torch.fx", "compiles and runs generated code"),
        ("torch._dynamo", "evaluates guards and compiles code"), ("torch._inductor", "compiles and runs code"),
        ("torch.utils._config_module", "loads pickles (ConfigModule.load_config)"), ("torch.utils.bottleneck", "runs code"),
        ("torch.utils.collect_env", "runs commands"), ("torch.utils.data.datapipes.utils.decoder", "loads pickles"),
        ("torch.utils.cpp_extension", "compiles and loads native code"), ("torch.ops", "calls registered operators (file I/O among them)"),
        ("torch.classes", "calls registered C++ classes"), ("torch.from_file", "maps files"),
        ("keras", "loads models (runs Lambda layers)"), ("tensorflow", "loads models, runs ops that touch files"),
    ];

    private static readonly Dictionary<string, string> DangerousExact = [];

    static GlobalClassifier()
    {
        foreach (var (prefix, why) in Dangerous) DangerousExact[prefix] = why;
    }

    /// <summary>Why a safe global is safe (null when it is not on the allow-list).</summary>
    public static string? SafeReason(string module, string name)
    {
        string full = $"{module}.{name}";
        if (TorchSafe.Contains(full) || IsTorchTensorOrStorageClass(module, name)) return TorchDefault;
        return OtherSafe.GetValueOrDefault(full);
    }

    /// <summary>
    /// Classifies <paramref name="module"/>.<paramref name="name"/> as written in a pickle of protocol
    /// <paramref name="protocol"/>: Python 2 names are first renamed as Python 3's unpickler does for protocols below 3
    /// (<see cref="PythonCompatNames"/>). The reason says which rule matched.
    /// </summary>
    public static (ScanVerdict Verdict, string Reason) Classify(string module, string name, int protocol)
    {
        var (m, n) = PythonCompatNames.Resolve(module, name, protocol);
        return ClassifyResolved(m, n);
    }

    /// <summary>Classifies a global as a protocol 0–2 pickle names it (Python 2 names such as <c>__builtin__</c> mapped first).</summary>
    public static (ScanVerdict Verdict, string Reason) Classify(string module, string name) => Classify(module, name, protocol: 2);

    /// <summary>Classifies a global already renamed as Python 3 imports it.</summary>
    public static (ScanVerdict Verdict, string Reason) ClassifyResolved(string module, string name)
    {
        // Python ≥ 3.4 resolves a dotted name attribute by attribute (protocol 4's STACK_GLOBAL and find_class), so
        // "OrderedDict.__init__.__globals__" or "__dict__.get" reaches objects no allow-list entry vouches for.
        if (name.Contains('.'))
            return (ScanVerdict.Dangerous, "a dotted name: Python walks it attribute by attribute, reaching objects the module does not export");
        if (SafeReason(module, name) is { } safe) return (ScanVerdict.Safe, safe);
        if (name.Length > 4 && name.StartsWith("__", StringComparison.Ordinal) && name.EndsWith("__", StringComparison.Ordinal))
            return (ScanVerdict.Dangerous, "a dunder attribute: reaches the interpreter's machinery (__import__, __dict__, __builtins__…)");
        string full = $"{module}.{name}";
        for (string prefix = full; ; prefix = prefix[..prefix.LastIndexOf('.')])
        {
            if (DangerousExact.TryGetValue(prefix, out var why)) return (ScanVerdict.Dangerous, $"{prefix}: {why}");
            if (!prefix.Contains('.')) break;
        }
        if (module.StartsWith("__torch__", StringComparison.Ordinal))
            return (ScanVerdict.Suspicious, "a TorchScript class: torch.jit.load compiles it from the archive's code/ and runs its methods (__setstate__) while loading");
        return (ScanVerdict.Suspicious, "not on the weights_only allow-list: Python imports it and may call it while loading");
    }

    private static bool IsTorchTensorOrStorageClass(string module, string name)
    {
        if (module is not ("torch" or "torch.cuda" or "torch.sparse" or "torch.cuda.sparse")) return false;
        foreach (var k in TensorKinds)
            if (name == k + "Storage" || name == k + "Tensor") return true;
        return false;
    }
}
