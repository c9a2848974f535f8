package bertj.tools;

import java.util.List;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * A picocli converter from a few lower-case names, in any case, to their values; any other name is refused with the
 * message {@code expected a, b or c, got 'x'}. A subclass names them in its no-argument constructor.
 */
abstract class NameConverter<T> implements ITypeConverter<T> {
    private final List<String> names;
    private final List<T> values;

    NameConverter(List<String> names, List<T> values) {
        if (names.size() != values.size() || names.size() < 2) throw new IllegalArgumentException("names " + names + ", values " + values);
        this.names = names;
        this.values = values;
    }

    @Override
    public T convert(String value) {
        int i = names.indexOf(value.toLowerCase(Locale.ROOT));
        if (i < 0) {
            throw new TypeConversionException("expected " + String.join(", ", names.subList(0, names.size() - 1)) + " or "
                    + names.getLast() + ", got '" + value + "'");
        }
        return values.get(i);
    }
}
