package bertj.tools;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * A PyTorch module tree, printed exactly as {@code nn.Module.__repr__} prints it (two-space indents,
 * {@code (name): Type(...)} children, {@code ModuleList} folding runs of identical entries into
 * {@code (0-5): 6 x BertLayer(...)}), with the parameter count of each leaf.
 */
record TorchModule(String type, String extraRepr, long ownParameters, List<Child> children, boolean isList) {

    record Child(String name, TorchModule module) {
    }

    TorchModule {
        children = List.copyOf(children);
    }

    static TorchModule leaf(String type, String extraRepr, long parameters) {
        return new TorchModule(type, extraRepr, parameters, List.of(), false);
    }

    static TorchModule of(String type, Child... children) {
        return new TorchModule(type, "", 0, List.of(children), false);
    }

    static Child child(String name, TorchModule module) {
        return new Child(name, module);
    }

    /** {@code nn.ModuleList(items)}. */
    static TorchModule list(List<TorchModule> items) {
        List<Child> children = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) children.add(new Child(Integer.toString(i), items.get(i)));
        return new TorchModule("ModuleList", "", 0, children, true);
    }

    /** {@code nn.Linear(in, out)}: weight [out, in] and bias [out]. */
    static TorchModule linear(long in, long out) {
        return leaf("Linear", "in_features=" + in + ", out_features=" + out + ", bias=True", in * out + out);
    }

    /** {@code nn.Embedding(n, dim, padding_idx)}; {@code paddingIdx} null for none. */
    static TorchModule embedding(long n, long dim, Integer paddingIdx) {
        return leaf("Embedding", n + ", " + dim + (paddingIdx == null ? "" : ", padding_idx=" + paddingIdx), n * dim);
    }

    /** {@code nn.LayerNorm(dim, eps)}: weight and bias [dim]. */
    static TorchModule layerNorm(long dim, double eps) {
        return leaf("LayerNorm", "(" + dim + ",), eps=" + pythonFloat(eps) + ", elementwise_affine=True", 2 * dim);
    }

    static TorchModule dropout(double p) {
        return leaf("Dropout", "p=" + pythonFloat(p) + ", inplace=False", 0);
    }

    /** {@code sum(p.numel() for p in module.parameters())}. */
    long parameterCount() {
        long n = ownParameters;
        for (Child c : children) n += c.module().parameterCount();
        return n;
    }

    /** {@code repr(module)}. */
    String repr() {
        List<String> lines = new ArrayList<>();
        if (isList) {
            if (children.isEmpty()) return type + "()";
            // ModuleList.__repr__: consecutive equal entries print once as "(first-last): n x Entry(...)"
            int start = 0;
            for (int i = 1; i <= children.size(); i++) {
                String block = children.get(start).module().repr();
                if (i < children.size() && children.get(i).module().repr().equals(block)) continue;
                int end = i - 1;
                String label = start == end ? "(" + start + "): " : "(" + start + "-" + end + "): " + (end - start + 1) + " x ";
                lines.add(addIndent(label + block));
                start = i;
            }
        } else {
            if (!extraRepr.isEmpty()) lines.addAll(List.of(extraRepr.split("\n")));
            if (children.isEmpty() && lines.size() == 1) return type + "(" + lines.getFirst() + ")";
            for (Child c : children) lines.add("(" + c.name() + "): " + addIndent(c.module().repr()));
        }
        if (lines.isEmpty()) return type + "()";
        return type + "(\n  " + String.join("\n  ", lines) + "\n)";
    }

    /** torch's {@code _addindent(s, 2)}: every line but the first moves right by two spaces. */
    private static String addIndent(String s) {
        return s.replace("\n", "\n  ");
    }

    /**
     * Python's {@code repr(float)}: the shortest digits that round-trip, in positional notation for
     * 1e-4 <= |x| < 1e16 and scientific ({@code 1e-12}, {@code 1.5e-05}) otherwise.
     */
    static String pythonFloat(double x) {
        if (Double.isNaN(x)) return "nan";
        if (Double.isInfinite(x)) return x > 0 ? "inf" : "-inf";
        if (x == 0) return (1 / x < 0) ? "-0.0" : "0.0";
        BigDecimal d = new BigDecimal(Double.toString(x)).stripTrailingZeros(); // Java's toString is shortest round-trip too
        String digits = d.unscaledValue().abs().toString();
        int exponent = digits.length() - 1 - d.scale(); // x = 0.d1d2... * 10^(exponent+1)
        String sign = x < 0 ? "-" : "";
        if (exponent >= -4 && exponent < 16) {
            String plain = d.abs().toPlainString();
            return sign + (plain.contains(".") ? plain : plain + ".0");
        }
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        String exp = String.format("%02d", Math.abs(exponent));
        return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + exp;
    }
}
