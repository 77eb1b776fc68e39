// Loads a weight file into a TorchSharp SimpleNN(10, 5, 1) and prints each parameter's name and the sum of its values.
// Python: model = SimpleNN(10, 5, 1); model.load_state_dict(torch.load(path))   (strict: names and shapes must match)
// Run:    dotnet run --project samples/csharp/LoadIntoTorchSharp -- FILE
//         FILE: any format WeightScope reads holding fc1.weight [5,10], fc1.bias [5], fc2.weight [1,5], fc2.bias [1]
//         (.pth, .safetensors, .npz, .onnx, TorchSharp .dat, a Keras .h5 whose Dense kernels are [in, out]: layouts
//         are converted).
// Prints: one line per parameter, "name sum" (the float64 sum of its values rounded to float32, printed "R").
// Exit:   0 loaded; 3 the file's names or shapes do not match (the strict-load message on stderr);
//         4 the file cannot be read (missing, not a model, corrupt: the reason on stderr); 2 usage.
using System.Globalization;
using TorchSharp;
using TorchSharp.Modules;
using WeightScope;
using WeightScope.TorchSharp;
using static TorchSharp.torch;

const int LoadMismatch = 3, Unreadable = 4, Usage = 2;
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: LoadIntoTorchSharp FILE");
    return Usage;
}
string path = args[0];

#region readme
var model = new SimpleNN(10, 5, 1);
try
{
    model.LoadWeights(path);      // like model.load_state_dict(torch.load(path)), from any format, strict by default
}
catch (WeightLoadException e)     // torch's "Error(s) in loading state_dict": every missing, unexpected and mis-shaped key
{
    Console.Error.WriteLine(e.Message);
    return LoadMismatch;
}
catch (Exception e) when (e is ModelFormatException or IOException or UnauthorizedAccessException or NotSupportedException)
{
    Console.Error.WriteLine($"error: cannot read {path}: {e.Message}");
    return Unreadable;
}
foreach (var (name, param) in model.named_parameters())
{
    float sum = (float)param.detach().to_type(ScalarType.Float64).sum().item<double>();
    Console.WriteLine($"{name} {sum.ToString("R", CultureInfo.InvariantCulture)}");
}
#endregion
return 0;

/// <summary>The tutorial's network: fc1 (Linear 10→5), ReLU, fc2 (Linear 5→1).</summary>
internal sealed class SimpleNN : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly ReLU relu;
    private readonly Linear fc2;

    public SimpleNN(int inputSize, int hiddenSize, int outputSize) : base(nameof(SimpleNN))
    {
        fc1 = nn.Linear(inputSize, hiddenSize);
        relu = nn.ReLU();
        fc2 = nn.Linear(hiddenSize, outputSize);
        RegisterComponents();           // fields become submodules named fc1, relu, fc2, as in Python
    }

    public override Tensor forward(Tensor x) => fc2.forward(relu.forward(fc1.forward(x)));
}
