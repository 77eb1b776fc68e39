using System.Text.Json;

namespace WeightScope.Security;

/// <summary>
/// What a Keras config names that runs code when Keras deserialises it (keras <c>saving/serialization_lib.py</c>,
/// <c>deserialize_keras_object</c> and <c>_retrieve_class_or_fn</c>; tf.keras <c>generic_utils.deserialize_keras_object</c>):
/// <list type="bullet">
/// <item><c>Lambda</c> layers and <c>__lambda__</c> objects: marshalled Python bytecode, run with <c>safe_mode=False</c>
/// (and by tf.keras before 2.13 with no opt-in);</item>
/// <item>a <c>module</c> (any object, <c>class_name: function</c> included) or <c>registered_name</c> whose package runs
/// commands, code, imports or opens files (<c>os</c>, <c>builtins</c>, <c>subprocess</c>…): Keras 3 before 3.9 did
/// <c>importlib.import_module(module)</c> and took <c>vars(mod)[class_name]</c>, so <c>{"module": "os", "class_name":
/// "system"}</c> hands <c>os.system</c> to the layer that calls it (CVE-2025-1550);</item>
/// <item>a <c>class_name</c> that is such a callable by itself (<c>system</c>, <c>eval</c>…), or a dotted one in such a package
/// (<c>builtins.eval</c>);</item>
/// <item><c>TFOpLambda</c>/<c>SlicingOpLambda</c> layers whose <c>function</c> names a TensorFlow API that touches files,
/// runs Python or loads libraries (<c>io.write_file</c>, <c>raw_ops.*</c>, <c>py_function</c>…): tf.keras resolves the
/// name with <c>get_symbol_from_name</c> and calls it. Math ops (<c>math.add</c>, the usual case) are only noted.</item>
/// </list>
/// A module outside Keras that runs nothing by itself (a custom layer package such as <c>qkeras.qlayers</c>) is noted,
/// not flagged: loading needs that package installed, and it is the package's code, not the file's.
/// </summary>
internal static class KerasConfigRules
{
    // Top-level packages whose attributes run commands or code, import, open files or sockets, or load pickles.
    private static readonly HashSet<string> DangerousPackages = new(StringComparer.Ordinal)
    {
        "os", "posix", "nt", "sys", "subprocess", "builtins", "__builtin__", "importlib", "runpy", "code", "codeop", "pty",
        "shutil", "socket", "ctypes", "pickle", "_pickle", "marshal", "shelve", "dill", "cloudpickle", "joblib", "webbrowser",
        "http", "urllib", "ftplib", "smtplib", "telnetlib", "imaplib", "io", "pathlib", "glob", "tempfile", "multiprocessing",
        "asyncio", "signal", "pydoc", "timeit", "cProfile", "profile", "trace", "pdb", "bdb", "doctest", "operator", "_operator",
        "functools", "_functools", "inspect", "types", "gc", "pip", "setuptools", "distutils", "lib2to3", "uuid", "idlelib",
        "_osx_support", "zipimport", "platform", "commands", "popen2", "_posixsubprocess", "threading", "_thread",
    };

    // Callables that are dangerous by name alone, as a class_name (keras looks names up in the module it imports).
    private static readonly HashSet<string> DangerousNames = new(StringComparer.Ordinal)
    {
        "system", "popen", "eval", "exec", "execfile", "compile", "__import__", "getattr", "setattr", "open", "spawnl", "spawnv",
        "execv", "execve", "execl", "Popen", "call", "check_call", "check_output", "run", "getoutput", "getstatusoutput",
        "import_module", "loads", "load", "run_path", "run_module", "b64decode", "attrgetter", "methodcaller", "partial",
    };

    // TensorFlow API prefixes (as TFOpLambda's "function" writes them, without "tf.") that touch files, run Python or
    // load native code.
    private static readonly string[] DangerousTfApis =
    [
        "io.", "raw_ops.", "py_function", "numpy_function", "py_func", "compat.v1.py_func", "compat.v1.io.", "compat.v1.gfile.",
        "gfile.", "summary.", "compat.v1.summary.", "debugging.", "data.", "saved_model.", "print", "compat.v1.Print",
        "load_op_library", "load_library", "train.", "compat.v1.train.", "keras.utils.get_file", "experimental.dtensor.",
    ];

    private static readonly HashSet<string> LambdaClasses = new(StringComparer.Ordinal)
    {
        "Lambda", "keras.layers.Lambda", "__lambda__",
    };

    /// <summary>Walks a parsed config with an explicit stack (any depth the parser accepted) and records what it finds.</summary>
    public static void Walk(JsonElement root, ScanReport report, string source)
    {
        var thirdParty = new SortedSet<string>(StringComparer.Ordinal);
        var tfOps = new SortedSet<string>(StringComparer.Ordinal);
        // Each element with its place: the config of a Lambda layer already reported, or that config's function (Keras 3
        // writes it as a "__lambda__" object: one finding per layer, not two).
        var pending = new Stack<(JsonElement Element, Place Place)>();
        pending.Push((root, Place.Other));
        while (pending.Count > 0)
        {
            var (e, place) = pending.Pop();
            if (e.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in e.EnumerateArray()) pending.Push((item, Place.Other));
                continue;
            }
            if (e.ValueKind != JsonValueKind.Object) continue;
            bool lambdaLayer = place != Place.LambdaFunction && Check(e, report, source, thirdParty, tfOps);
            foreach (var p in e.EnumerateObject())
                pending.Push((p.Value, (lambdaLayer, place, p.Name) switch
                {
                    (true, _, "config") => Place.LambdaConfig,
                    (_, Place.LambdaConfig, "function") => Place.LambdaFunction,
                    _ => Place.Other,
                }));
        }
        if (thirdParty.Count > 0)
            report.Notes.Add($"{source} names code outside Keras by module path ({string.Join(", ", thirdParty)}): loading needs those packages installed and imports them; nothing in them is known to run commands");
        if (tfOps.Count > 0)
            report.Notes.Add($"{source} has TFOpLambda layers calling TensorFlow compute ops ({string.Join(", ", tfOps)}): no file, process or Python access");
    }

    // True when e is a Lambda layer (reported here).
    private static bool Check(JsonElement e, ScanReport report, string source, SortedSet<string> thirdParty, SortedSet<string> tfOps)
    {
        string? cls = String(e, "class_name"), module = String(e, "module"), registered = String(e, "registered_name");
        var config = e.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.Object ? c : default;
        string name = config.ValueKind == JsonValueKind.Object ? String(config, "name") ?? "?" : "?";
        if (cls is null) return false;
        void Flag(string kind, string detail) => report.Code.Add(new CodeFinding(kind, source, detail, ScanVerdict.Dangerous));

        bool lambda = LambdaClasses.Contains(cls);
        if (lambda)
            Flag("keras-lambda", cls == "__lambda__"
                ? "a __lambda__ function: Python bytecode Keras runs on load (safe_mode=False)"
                : $"Lambda layer '{name}': its function is Python code Keras runs on load (safe_mode=False; tf.keras < 2.13 without asking)");
        if (cls is "TFOpLambda" or "SlicingOpLambda" && config.ValueKind == JsonValueKind.Object && String(config, "function") is { } api)
        {
            if (DangerousTfApis.Any(p => api.StartsWith(p, StringComparison.Ordinal)))
                Flag("keras-tfoplambda", $"{cls} '{name}' calls tf.{api}, which touches files, runs Python or loads native code");
            else tfOps.Add(api);
        }
        if (module is "builtins" or "__builtin__" && cls == "function")
        {
            // Keras writes plain functions as module "builtins" and looks their name up among its own activations,
            // losses… first (_retrieve_class_or_fn, BUILTIN_MODULES); only a Python builtin that runs code is a finding.
            string fn = e.TryGetProperty("config", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString()! : "?";
            if (DangerousNames.Contains(fn) || fn is "breakpoint" or "input" or "globals" or "locals" or "vars" or "delattr" or "exit" or "quit")
                Flag("keras-module", $"function {module}.{fn}: Keras < 3.9 takes it from Python's builtins and calls it (CVE-2025-1550)");
        }
        else if (module is not null)
        {
            string package = module.Split('.')[0];
            if (DangerousPackages.Contains(package))
                Flag("keras-module", $"object '{name}' names {module}.{cls} by module path: Keras < 3.9 imports {module} and takes {cls} from it (CVE-2025-1550)");
            else if (!IsKerasPackage(package)) thirdParty.Add(module);
        }
        if (registered is not null && DangerousPackages.Contains(registered.Split('>', '.')[0]))
            Flag("keras-registered-name", $"object '{name}' has registered_name {registered}, a name in a package that runs code");
        if (DangerousNames.Contains(cls) || cls.Contains('.') && DangerousPackages.Contains(cls.Split('.')[0]))
            Flag("keras-class-name", $"object '{name}' has class_name {cls}, a callable that runs code or reaches other code");
        return lambda && cls != "__lambda__";
    }

    private enum Place { Other, LambdaConfig, LambdaFunction }

    // keras, tf.keras (written as "keras.src…", "tensorflow.python.keras…" or "tf_keras…") and Keras's own libraries.
    private static bool IsKerasPackage(string package) =>
        package is "keras" or "tf_keras" or "tensorflow" or "tf" or "keras_hub" or "keras_cv" or "keras_nlp";

    private static string? String(JsonElement o, string key) =>
        o.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
