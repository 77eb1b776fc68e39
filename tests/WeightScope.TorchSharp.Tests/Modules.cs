using TorchSharp;
using TorchSharp.Modules;
using WeightScope.Tensors;
using static TorchSharp.torch;

namespace WeightScope.TorchSharp.Tests;

/// <summary>The tutorial's <c>SimpleNN</c>: fc1 → relu → fc2.</summary>
public sealed class SimpleNN : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly Linear fc2;

    public SimpleNN(int input, int hidden, int output) : base(nameof(SimpleNN))
    {
        fc1 = nn.Linear(input, hidden);
        fc2 = nn.Linear(hidden, output);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => fc2.forward(nn.functional.relu(fc1.forward(x)));
}

/// <summary>
/// A module with exactly a file's state-dict names, shapes and dtypes (zeros), so any file can be loaded into a module
/// that matches it: floating-point tensors as parameters (buffers when the file says so), others as buffers.
/// </summary>
public sealed class Mirror : nn.Module
{
    private readonly Dictionary<string, Mirror> _children = new(StringComparer.Ordinal);

    private Mirror(string name) : base(name) { }

    public static Mirror Of(IEnumerable<TensorEntry> tensors)
    {
        var root = new Mirror("Mirror");
        foreach (var t in tensors)
        {
            var parts = t.Name.Split('.');
            var node = root;
            foreach (var p in parts[..^1])
            {
                if (!node._children.TryGetValue(p, out var child))
                {
                    child = new Mirror(p);
                    node._children[p] = child;
                    node.register_module(p, child);
                }
                node = child;
            }
            var dtype = t.Quantization is not null || t.DType.IsQuantized() ? ScalarType.Float32 : ToScalar(t.DType);
            var zeros = torch.zeros(t.Shape.ToArray(), dtype);
            bool floating = dtype is ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16;
            if (floating && t.Role != TensorRole.Buffer) node.register_parameter(parts[^1], new Parameter(zeros, requires_grad: false));
            else node.register_buffer(parts[^1], zeros);
        }
        return root;
    }

    public static ScalarType ToScalar(DType d) => d switch
    {
        DType.Float32 => ScalarType.Float32, DType.Float16 => ScalarType.Float16, DType.BFloat16 => ScalarType.BFloat16,
        DType.Float64 => ScalarType.Float64, DType.Int8 => ScalarType.Int8, DType.UInt8 => ScalarType.Byte,
        DType.Int16 => ScalarType.Int16, DType.Int32 => ScalarType.Int32, DType.Int64 => ScalarType.Int64, DType.Bool => ScalarType.Bool,
        DType.Complex64 => ScalarType.ComplexFloat32, DType.Complex128 => ScalarType.ComplexFloat64,
        _ => ScalarType.Float64, // uint16/32/64, float8: a type that holds every value
    };
}

/// <summary>A module that only holds children, in order (a Sequential for modules of any signature, such as GRU).</summary>
public sealed class Bag : nn.Module
{
    public Bag(params (string Name, nn.Module Module)[] children) : base(nameof(Bag))
    {
        foreach (var (name, module) in children) register_module(name, module);
    }
}
