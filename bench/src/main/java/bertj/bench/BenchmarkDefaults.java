package bertj.bench;

import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * What the JMH benchmarks in this jar have in common, inherited from here (JMH reads a superclass's annotations):
 * one fork, which runs with this JVM's flags, JMH's default when {@code @Fork} names none (under {@code ./bertj bench
 * jmh}: the launcher's, the parent pom's {@code bertj.jvm.flags}); and the benchmark class as a state shared by the
 * benchmark's threads, unless it says otherwise.
 */
@State(Scope.Benchmark)
@Fork(1)
public abstract class BenchmarkDefaults {
}
