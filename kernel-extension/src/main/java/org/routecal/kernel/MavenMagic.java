package org.routecal.kernel;

import org.apache.maven.model.interpolation.ModelInterpolator;
import org.eclipse.aether.RepositorySystem;
import org.eclipse.aether.RepositorySystemSession;
import org.eclipse.aether.artifact.DefaultArtifact;
import org.eclipse.aether.collection.CollectRequest;
import org.eclipse.aether.graph.Dependency;
import org.eclipse.aether.repository.RemoteRepository;
import org.eclipse.aether.resolution.ArtifactResult;
import org.eclipse.aether.resolution.DependencyRequest;
import org.eclipse.aether.resolution.DependencyResolutionException;
import org.eclipse.aether.supplier.RepositorySystemSupplier;
import org.eclipse.aether.supplier.SessionBuilderSupplier;
import org.eclipse.aether.util.artifact.JavaScopes;
import org.eclipse.aether.util.filter.DependencyFilterUtils;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code %maven G:A[:EXT[:CLASSIFIER]]:V … [--repository URL]…}: resolves artifacts with their runtime dependencies
 * through Maven's own resolver (the one the {@code mvn} command uses) and returns the jar files, as IJava's
 * {@code %maven}. Repositories: the local one ({@code -Dmaven.repo.local}, else {@code ~/.m2/repository}), Maven
 * Central as Maven itself defines it ({@code -Dmaven.repo.central} overrides), and every {@code --repository}.
 */
final class MavenMagic {
    private MavenMagic() {}

    static List<Path> resolve(List<String> args) throws CellException {
        List<String> coordinates = new ArrayList<>();
        List<RemoteRepository> repos = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--repository") || a.startsWith("--repository=")) {
                String url = a.contains("=") ? a.substring(a.indexOf('=') + 1) : (i + 1 < args.size() ? args.get(++i) : "");
                if (url.isBlank()) throw usage("--repository needs a URL");
                repos.add(new RemoteRepository.Builder("repo" + repos.size(), "default", url).build());
            } else if (a.startsWith("-")) {
                String guess = Suggest.closest(a, List.of("--repository"));
                throw usage("unknown option " + a + (guess == null ? "" : "; did you mean " + guess + "?"));
            } else {
                coordinates.add(a);
            }
        }
        if (coordinates.isEmpty()) throw usage("no artifact given");
        repos.add(new RemoteRepository.Builder("central", "default",
                System.getProperty(ModelInterpolator.MAVEN_REPO_CENTRAL_KEY, ModelInterpolator.DEFAULT_MAVEN_REPO_CENTRAL_URL)).build());
        Path local = Path.of(System.getProperty("maven.repo.local", System.getProperty("user.home") + "/.m2/repository"));
        RepositorySystem system = new RepositorySystemSupplier().get();
        List<Path> jars = new ArrayList<>();
        try (RepositorySystemSession.CloseableSession session = new SessionBuilderSupplier(system).get()
                .withLocalRepositoryBaseDirectories(local).setSystemProperties(System.getProperties()).build()) {
            for (String c : coordinates) {
                DefaultArtifact artifact;
                try {
                    artifact = new DefaultArtifact(c);
                } catch (IllegalArgumentException e) {
                    throw usage(c + ": not Maven coordinates (group:artifact[:extension[:classifier]]:version)");
                }
                CollectRequest collect = new CollectRequest(new Dependency(artifact, JavaScopes.RUNTIME), repos);
                DependencyRequest request = new DependencyRequest(collect, DependencyFilterUtils.classpathFilter(JavaScopes.RUNTIME));
                try {
                    for (ArtifactResult r : system.resolveDependencies(session, request).getArtifactResults()) {
                        Path p = r.getArtifact().getPath();
                        if (p != null && !jars.contains(p)) jars.add(p);
                    }
                } catch (DependencyResolutionException e) {
                    String msg = "%maven: cannot resolve " + c + ": " + e.getMessage();
                    throw new CellException.UsageError(msg, List.of(msg));
                }
            }
        } finally {
            system.shutdown();
        }
        return jars;
    }

    private static CellException usage(String problem) {
        String msg = "%maven: " + problem + " (usage: %maven GROUP:ARTIFACT:VERSION… [--repository URL]…)";
        return new CellException.UsageError(msg, List.of(msg));
    }
}
