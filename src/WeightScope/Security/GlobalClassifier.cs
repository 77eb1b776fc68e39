namespace WeightScope.Security;

/// <summary>
/// Classifies a pickle global. Safe is what torch 1.13's <c>torch/_weights_only_unpickler.py</c>
/// (<c>_get_allowed_globals</c>) lets <c>torch.load(weights_only=True)</c> import, plus the dtypes later torch versions
/// added (quantized tensors, devices), TorchScript's list builders, and numpy's object-array reconstruction; dangerous is anything that runs commands or code, imports modules,
/// opens files or sockets, or reaches arbitrary attributes; everything else is suspicious.
/// </summary>
public static class GlobalClassifier
{
    // torch 1.13 _get_allowed_globals(), verbatim keys (printed by the installed torch), plus later torch's extra dtypes.
    private static readonly HashSet<string> TorchSafe = new(StringComparer.Ordinal)
    {
        "collections.OrderedDict", "torch.nn.parameter.Parameter", "torch.serialization._get_layout", "torch.Size", "torch.Tensor",
        "torch.complex32", "torch.complex64", "torch.complex128", "torch.float16", "torch.float32", "torch.float64",
        "torch.int8", "torch.int16", "torch.int32", "torch.int64",
        "torch.bfloat16", "torch.bool", "torch.uint8", // allowed by torch ≥ 2.0
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_meta_tensor_no_storage", "torch._utils._rebuild_sparse_csr_tensor",
        "torch.storage.TypedStorage", "torch.storage.UntypedStorage",
        // added to the allow-list by torch 2.x: quantized tensors, their schemes, devices, tensor subclasses' rebuild.
        "torch._utils._rebuild_qtensor", "torch.per_tensor_affine", "torch.per_channel_affine", "torch.per_tensor_symmetric",
        "torch.per_channel_symmetric", "torch.per_channel_affine_float_qparams", "torch.device", "torch._tensor._rebuild_from_type_v2",
        "torch.quint8", "torch.qint8", "torch.qint32", "torch.quint4x2", "torch.quint2x4",
        // TorchScript's constants and attributes: these only build lists and tagged values (torch/jit/_pickle.py).
        "torch.jit._pickle.build_intlist", "torch.jit._pickle.build_doublelist", "torch.jit._pickle.build_boollist",
        "torch.jit._pickle.build_tensorlist", "torch.jit._pickle.build_tensor_from_id", "torch.jit._pickle.restore_type_tag",
        // numpy object arrays (np.save of dtype=object) are rebuilt through these; none runs code.
        "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "numpy.ndarray", "numpy.dtype",
        "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
    };

    private static readonly string[] TensorKinds =
        ["BFloat16", "Bool", "Byte", "Char", "ComplexDouble", "ComplexFloat", "Double", "Float", "Half", "Int", "Long", "Short",
         "QInt32", "QInt8", "QUInt2x4", "QUInt4x2", "QUInt8"];

    // Whole modules whose every attribute can run commands, load code or touch the system.
    private static readonly HashSet<string> DangerousModules = new(StringComparer.Ordinal)
    {
        "os", "posix", "nt", "subprocess", "sys", "socket", "shutil", "pty", "runpy", "importlib", "pkgutil", "pickle",
        "_pickle", "cPickle", "marshal", "ctypes", "webbrowser", "code", "codeop", "commands", "multiprocessing", "asyncio",
        "signal", "tempfile", "io", "_io", "pathlib", "zipimport", "imp", "timeit", "pdb", "bdb", "cProfile", "profile",
        "dill", "cloudpickle", "joblib.externals.cloudpickle", "http", "urllib", "requests", "ftplib", "smtplib", "telnetlib",
        "platform", "ssl", "select", "fcntl", "mmap", "resource", "types", "inspect", "_posixsubprocess",
        "torch.hub", "numpy.f2py", "numpy.testing", "numpy.distutils", "setuptools", "distutils", "venv", "ensurepip",
    };

    private static readonly HashSet<string> DangerousNames = new(StringComparer.Ordinal)
    {
        "builtins.eval", "builtins.exec", "builtins.compile", "builtins.getattr", "builtins.setattr", "builtins.delattr",
        "builtins.open", "builtins.__import__", "builtins.globals", "builtins.locals", "builtins.vars", "builtins.breakpoint",
        "builtins.input", "builtins.exit", "builtins.quit", "builtins.apply", "builtins.execfile", "builtins.file", "builtins.reload",
        "functools.partial", "functools.reduce", "operator.attrgetter", "operator.methodcaller", "operator.itemgetter",
        "operator.getitem", "operator.call", "torch.serialization.load", "torch.load", "torch.save",
        "torch.jit.load", "torch._C._jit_load", "torch.package.PackageImporter", "numpy.load", "numpy.loadtxt", "numpy.fromfile",
        "numpy.save", "numpy.tofile", "numpy.memmap", "numpy.core.memmap", "numpy.lib.npyio.load", "pandas.read_pickle",
        "pandas.io.pickle.read_pickle", "joblib.load", "keras.models.load_model", "tensorflow.keras.models.load_model",
        "_codecs.open", "codecs.open", "linecache.getline", "linecache.getlines", "glob.glob", "fileinput.input",
    };

    /// <summary>Classifies <paramref name="module"/>.<paramref name="name"/>; the reason says which rule matched.</summary>
    /// <param name="module">Module as written (Python 2 names are mapped first, as Python 3's fix_imports does).</param>
    /// <param name="name">Attribute name (dotted names, e.g. <c>path.join</c>, are judged by their module too).</param>
    public static (ScanVerdict Verdict, string Reason) Classify(string module, string name)
    {
        module = module switch
        {
            "__builtin__" or "exceptions" => "builtins",
            "copy_reg" => "copyreg",
            "cPickle" => "pickle",
            _ => module,
        };
        string full = $"{module}.{name}";
        if (TorchSafe.Contains(full) || IsTorchTensorOrStorageClass(module, name))
            return (ScanVerdict.Safe, "allowed by torch.load(weights_only=True)");
        if (DangerousNames.Contains(full))
            return (ScanVerdict.Dangerous, "runs code, reaches arbitrary attributes or reads/writes files when called");
        string top = module.Split('.')[0];
        foreach (var m in new[] { module, top })
            if (DangerousModules.Contains(m))
                return (ScanVerdict.Dangerous, $"module {m} can run commands, load code or touch the system");
        if (module.Length == 0) return (ScanVerdict.Suspicious, "a call of a value that is not a global");
        return (ScanVerdict.Suspicious, "not on the weights_only allow-list: Python would import and may call it");
    }

    private static bool IsTorchTensorOrStorageClass(string module, string name)
    {
        if (module is not ("torch" or "torch.cuda" or "torch.sparse" or "torch.cuda.sparse")) return false;
        foreach (var k in TensorKinds)
            if (name == k + "Storage" || name == k + "Tensor") return true;
        return false;
    }
}
