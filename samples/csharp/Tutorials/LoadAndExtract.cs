using WeightScope.Printing;
using WeightScope.TorchSharp;

namespace Tutorials;

/// <summary>
/// "Load and extract": MyModel's weights loaded from a file torch wrote (<c>model.load_state_dict(torch.load(…))</c>),
/// then every named parameter printed; the same from the <c>.safetensors</c> and <c>.npz</c> copies.
/// </summary>
internal static class LoadAndExtract
{
    public static int Run(string fixtures)
    {
        foreach (string file in new[] { "my_model.pth", "my_model.safetensors", "my_model.npz" })
        {
            string path = Path.Combine(fixtures, file);
            Console.WriteLine($"== {file}");
            #region readme
            var model = new MyModel();
            model.LoadWeights(path);                      // model.load_state_dict(torch.load(path)); any format
            using var weights = model.AsModelFile();
            foreach (var (name, param) in model.named_parameters())
            {
                Console.WriteLine($"{name} {Printed.TorchSize(param.shape)}");             // print(name, param.shape)
                Console.WriteLine(TensorFormatter.FormatParameter(weights.Tensors[name]));  // print(param)
            }
            #endregion
        }
        return 0;
    }
}
