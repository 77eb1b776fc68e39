// bench/torchsharp_bench.sh's measuring program (issue 19 §3). One process per measurement:
//   TorchSharpLoad run LOADER MODEL FILE   LOADER: pybridge (module.load_py) | weightscope (module.LoadWeights) |
//                                          none (construct the module, load nothing); MODEL: see Models.Names
//   prints one JSON line: load time (a Stopwatch around the load call only), /proc/self/status at start (libtorch
//   initialised, no module), before the load (module constructed) and after it, and per-tensor sums of the module.
//   TorchSharpLoad survey PATH...           for each PyTorch file under the paths (pytorch-zip, pytorch-legacy,
//   torchscript as WeightScope detects them), a module matching its state dict, loaded by load_py and by
//   LoadWeights; prints a Markdown table row per file (and one JSON line per file to stderr).
using System.Diagnostics;
using System.Text.Json;
using TorchSharp;
using TorchSharp.PyBridge;
using TorchSharpLoad;
using static TorchSharp.torch;

if (args.Length >= 4 && args[0] == "run") return Run(args[1], args[2], args[3]);
if (args.Length >= 3 && args[0] == "phases") return Phases.Run(args[1], args[2], args.Length > 3 ? int.Parse(args[3]) : 3);
if (args.Length >= 3 && args[0] == "check") return Check(args[1], args[2]);
if (args.Length >= 2 && args[0] == "survey") return Survey.Run(args[1..]);
Console.Error.WriteLine("usage: TorchSharpLoad run pybridge|weightscope|none MODEL FILE | check MODEL FILE | phases MODEL FILE [N] | survey PATH...");
Console.Error.WriteLine("models: " + string.Join(", ", Models.Names));
return 2;

// The module matches the file: the same names, in the same order, with the same shapes and dtypes (WeightScope's
// listing of the file against the module's state_dict()).
static int Check(string model, string path)
{
    using var module = Models.Create(model);
    using var file = WeightScope.ModelFile.Open(path);
    var mine = module.state_dict().Select(kv => $"{kv.Key} {kv.Value.dtype} [{string.Join(", ", kv.Value.shape)}]").ToList();
    var theirs = file.Tensors.Select(t => $"{t.Name} {Survey.ToScalarType(t.DType)} [{string.Join(", ", t.Shape)}]").ToList();
    var onlyModule = mine.Except(theirs).ToList();
    var onlyFile = theirs.Except(mine).ToList();
    bool sameOrder = mine.SequenceEqual(theirs);
    Console.WriteLine($"{model}: module {mine.Count} tensors, file {theirs.Count}; only in module: {onlyModule.Count}, only in file: {onlyFile.Count}; same order: {sameOrder}");
    foreach (var s in onlyModule.Take(10)) Console.WriteLine("  module: " + s);
    foreach (var s in onlyFile.Take(10)) Console.WriteLine("  file:   " + s);
    return onlyModule.Count + onlyFile.Count == 0 ? 0 : 1;
}

static int Run(string loader, string model, string path)
{
    using (zeros(1)) { } // libtorch loaded and initialised: the runtime's baseline
    var start = ProcStatus.Read();
    var construct = Stopwatch.StartNew();
    var module = Models.Create(model);
    construct.Stop();
    var before = ProcStatus.Read();
    // First-call costs inside the load: methods the JIT compiled (not precompiled ReadyToRun code) and the time it took.
    long jitMethods = System.Runtime.JitInfo.GetCompiledMethodCount();
    var jitTime = System.Runtime.JitInfo.GetCompilationTime();
    var load = Stopwatch.StartNew();
    try
    {
        switch (loader)
        {
            case "pybridge": module.load_py(path); break;
            case "weightscope": WeightScopeLoader.Load(module, path); break;
            case "none": break;
            default: throw new ArgumentException($"unknown loader '{loader}': pybridge, weightscope or none");
        }
    }
    catch (Exception e) when (loader != "none")
    {
        // A loader that refuses the file is a result, not a crash: the table shows its exception.
        Console.WriteLine(JsonSerializer.Serialize(new { loader, model, file = path, error = $"{e.GetType().Name}: {e.Message.Split('\n', 2)[0].Trim()}" }));
        return 1;
    }
    load.Stop();
    jitMethods = System.Runtime.JitInfo.GetCompiledMethodCount() - jitMethods;
    jitTime = System.Runtime.JitInfo.GetCompilationTime() - jitTime;
    var after = ProcStatus.Read();
    var sum = Checksum.Of(module);
    Console.WriteLine(JsonSerializer.Serialize(new
    {
        loader,
        model,
        file = path,
        file_bytes = new FileInfo(path).Length,
        load_s = load.Elapsed.TotalSeconds,
        construct_s = construct.Elapsed.TotalSeconds,
        jit_methods = jitMethods,
        jit_s = jitTime.TotalSeconds,
        module_bytes = sum.ModuleBytes,
        start = start.ToJson(),
        before = before.ToJson(),
        after = after.ToJson(),
        tensors = sum.Tensors,
        checksum = sum.Total,
        digest = sum.Digest,
    }));
    return 0;
}
