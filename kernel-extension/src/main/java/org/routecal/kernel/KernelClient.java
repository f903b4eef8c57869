package org.routecal.kernel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.routecal.RoutecalException;
import org.zeromq.SocketType;
import org.zeromq.ZMQ;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A Jupyter client (messaging protocol 5.3 over ZeroMQ, HMAC-SHA256 signed) that starts a kernel process and runs
 * cells on it, recording their outputs in nbformat 4 form, as nbclient does for papermill. {@code run-notebook} runs
 * every notebook this way: routecal's own kernel by default, or any installed kernelspec ({@code -k ijava}), in the
 * working directory the notebook should see ({@code --cwd}).
 */
final class KernelClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] DELIMITER = "<IDS|MSG>".getBytes(StandardCharsets.UTF_8);
    private final Process process;
    private final Path connectionFile;
    private final ZMQ.Context ctx = ZMQ.context(1);
    private final ZMQ.Socket shell, control, iopub;
    private final Mac mac;
    private final String session = UUID.randomUUID().toString();
    private final boolean interruptByMessage;
    private final JsonNode kernelInfo;

    /** What one cell produced. */
    record Result(ArrayNode outputs, Integer executionCount, boolean ok, String ename, String evalue, List<String> traceback) {}

    private KernelClient(List<String> argv, Map<String, String> env, boolean interruptByMessage, Path cwd, PrintStream log)
            throws IOException, InterruptedException {
        this.interruptByMessage = interruptByMessage;
        int[] ports = freePorts(5);
        String key = UUID.randomUUID().toString();
        ObjectNode conn = JSON.createObjectNode().put("transport", "tcp").put("ip", "127.0.0.1").put("key", key)
                .put("signature_scheme", "hmac-sha256").put("shell_port", ports[0]).put("iopub_port", ports[1])
                .put("stdin_port", ports[2]).put("control_port", ports[3]).put("hb_port", ports[4]).put("kernel_name", "");
        connectionFile = Files.createTempFile("routecal-kernel-", ".json");
        Files.writeString(connectionFile, conn.toString());
        List<String> cmd = argv.stream().map(a -> a.replace("{connection_file}", connectionFile.toString())).toList();
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        process = pb.start();
        try {
            mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 unavailable", e);
        }
        shell = socket(SocketType.DEALER, ports[0]);
        control = socket(SocketType.DEALER, ports[3]);
        iopub = socket(SocketType.SUB, ports[1]);
        iopub.subscribe(new byte[0]);
        kernelInfo = waitForKernel(log);
    }

    /** routecal's own kernel in a child JVM with this JVM's class path, heap and collector options. */
    static KernelClient startRoutecal(Path cwd, PrintStream log) throws IOException, InterruptedException {
        List<String> parent = java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments();
        List<String> argv = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-Xmx" + Math.max(256, Runtime.getRuntime().maxMemory() >> 20) + "m"));
        parent.stream().filter(o -> o.matches("-XX:[+-]Use\\w*GC|-XX:G1HeapRegionSize=.*")).forEach(argv::add);
        argv.addAll(KernelInstallCommand.collectorDefaults(argv));
        argv.addAll(List.of("-cp", System.getProperty("java.class.path"), RoutecalKernel.class.getName(), "{connection_file}"));
        return new KernelClient(argv, Map.of(), true, cwd, log);
    }

    /** An installed kernelspec, found where Jupyter looks ($JUPYTER_PATH, the user and system data folders). */
    static KernelClient startSpec(String name, Path cwd, PrintStream log) throws IOException, InterruptedException {
        Path dir = findSpec(name);
        JsonNode spec = JSON.readTree(dir.resolve("kernel.json").toFile());
        List<String> argv = new ArrayList<>();
        for (JsonNode a : spec.path("argv")) argv.add(a.asText().replace("{resource_dir}", dir.toString()));
        if (argv.isEmpty()) throw new RoutecalException(dir.resolve("kernel.json") + ": no argv");
        Map<String, String> env = new HashMap<>();
        spec.path("env").fields().forEachRemaining(e -> env.put(e.getKey(), e.getValue().asText()));
        return new KernelClient(argv, env, "message".equals(spec.path("interrupt_mode").asText()), cwd, log);
    }

    static Path findSpec(String name) {
        List<Path> roots = new ArrayList<>();
        String jp = System.getenv("JUPYTER_PATH");
        if (jp != null) for (String p : jp.split(File.pathSeparator)) if (!p.isBlank()) roots.add(Path.of(p));
        String data = System.getenv("JUPYTER_DATA_DIR");
        roots.add(data != null ? Path.of(data) : Path.of(System.getProperty("user.home"), ".local", "share", "jupyter"));
        roots.add(Path.of("/usr/local/share/jupyter"));
        roots.add(Path.of("/usr/share/jupyter"));
        for (Path r : roots) {
            Path d = r.resolve("kernels").resolve(name);
            if (Files.isRegularFile(d.resolve("kernel.json"))) return d;
        }
        throw new RoutecalException("no Jupyter kernel named '" + name + "' (looked in " + roots + "/kernels; "
                + "`jupyter kernelspec list` shows the installed ones)");
    }

    /** The kernel's kernel_info_reply content (language_info, implementation, …). */
    JsonNode kernelInfo() {
        return kernelInfo;
    }

    /** Runs one cell; {@code timeoutSeconds} > 0 interrupts it after that long (then {@code timedOut} is set). */
    Result execute(String code, double timeoutSeconds, PrintStream log, boolean[] timedOut) throws InterruptedException {
        ObjectNode content = JSON.createObjectNode().put("code", code).put("silent", false).put("store_history", true)
                .put("allow_stdin", false).put("stop_on_error", true);
        content.putObject("user_expressions");
        String msgId = send(shell, "execute_request", content);
        ArrayNode outputs = JSON.createArrayNode();
        Map<String, List<ObjectNode>> byDisplayId = new HashMap<>();
        boolean idle = false, clearOnNext = false;
        JsonNode reply = null;
        long deadline = timeoutSeconds > 0 ? System.nanoTime() + (long) (timeoutSeconds * 1e9) : Long.MAX_VALUE;
        ZMQ.Poller poller = ctx.poller(2);
        poller.register(iopub, ZMQ.Poller.POLLIN);
        poller.register(shell, ZMQ.Poller.POLLIN);
        while (!idle || reply == null) {
            if (System.nanoTime() > deadline && !timedOut[0]) {
                timedOut[0] = true;
                interrupt();
            }
            if (!process.isAlive()) throw new RoutecalException("the kernel died (exit status " + process.exitValue() + ") while running a cell");
            poller.poll(200);
            if (poller.pollin(1)) {
                ObjectNode m = receive(shell);
                if (m != null && msgId.equals(m.at("/parent_header/msg_id").asText())) reply = m.get("content");
            }
            if (!poller.pollin(0)) continue;
            ObjectNode m = receive(iopub);
            if (m == null || !msgId.equals(m.at("/parent_header/msg_id").asText())) continue;
            String type = m.at("/header/msg_type").asText();
            JsonNode c = m.get("content");
            if (type.equals("status")) {
                idle = "idle".equals(c.path("execution_state").asText());
                continue;
            }
            if (type.equals("clear_output")) {
                if (c.path("wait").asBoolean()) clearOnNext = true;
                else outputs.removeAll();
                continue;
            }
            if (type.equals("update_display_data")) {
                for (ObjectNode o : byDisplayId.getOrDefault(c.at("/transient/display_id").asText(), List.of())) {
                    o.set("data", c.get("data"));
                    o.set("metadata", c.path("metadata").isObject() ? c.get("metadata") : JSON.createObjectNode());
                }
                continue;
            }
            if (!List.of("stream", "display_data", "execute_result", "error").contains(type)) continue;
            if (clearOnNext) {
                outputs.removeAll();
                clearOnNext = false;
            }
            if (log != null) logOutput(log, type, c);
            if (type.equals("stream")) {
                JsonNode last = outputs.isEmpty() ? null : outputs.get(outputs.size() - 1);
                if (last != null && "stream".equals(last.path("output_type").asText()) && c.path("name").asText().equals(last.path("name").asText())) {
                    ((ObjectNode) last).put("text", last.path("text").asText() + c.path("text").asText());
                } else {
                    outputs.addObject().put("output_type", "stream").put("name", c.path("name").asText()).put("text", c.path("text").asText());
                }
                continue;
            }
            ObjectNode o = outputs.addObject().put("output_type", type);
            if (type.equals("error")) {
                o.put("ename", c.path("ename").asText()).put("evalue", c.path("evalue").asText());
                o.set("traceback", c.path("traceback").isArray() ? c.get("traceback") : JSON.createArrayNode());
                continue;
            }
            if (type.equals("execute_result")) o.set("execution_count", c.get("execution_count"));
            o.set("data", c.path("data").isObject() ? c.get("data") : JSON.createObjectNode());
            o.set("metadata", c.path("metadata").isObject() ? c.get("metadata") : JSON.createObjectNode());
            String displayId = c.at("/transient/display_id").asText("");
            if (!displayId.isEmpty()) byDisplayId.computeIfAbsent(displayId, k -> new ArrayList<>()).add(o);
        }
        List<String> tb = new ArrayList<>();
        reply.path("traceback").forEach(t -> tb.add(t.asText()));
        Integer count = reply.path("execution_count").isInt() ? reply.get("execution_count").asInt() : null;
        return new Result(outputs, count, "ok".equals(reply.path("status").asText()), reply.path("ename").asText(""),
                reply.path("evalue").asText(""), tb);
    }

    private static void logOutput(PrintStream log, String type, JsonNode c) {
        switch (type) {
            case "stream" -> log.print(c.path("text").asText());
            case "error" -> log.println(c.path("ename").asText() + ": " + c.path("evalue").asText());
            default -> log.println(c.at("/data/text~1plain").asText(""));
        }
    }

    /** Stops the running cell: an interrupt_request where the kernelspec asks for messages, else SIGINT. */
    void interrupt() {
        if (interruptByMessage) {
            send(control, "interrupt_request", JSON.createObjectNode());
        } else {
            try {
                new ProcessBuilder("kill", "-INT", Long.toString(process.pid())).start().waitFor();
            } catch (IOException | InterruptedException e) {
                process.destroy();
            }
        }
    }

    @Override
    public void close() {
        try {
            send(control, "shutdown_request", JSON.createObjectNode().put("restart", false));
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        } finally {
            shell.close();
            control.close();
            iopub.close();
            ctx.term();
            try {
                Files.deleteIfExists(connectionFile);
            } catch (IOException ignored) {
                // a temp file; the OS cleans its temp folder
            }
        }
    }

    // ---- protocol

    private JsonNode waitForKernel(PrintStream log) throws InterruptedException {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) throw new RoutecalException("the kernel exited with status " + process.exitValue() + " while starting");
            String id = send(shell, "kernel_info_request", JSON.createObjectNode());
            long until = System.nanoTime() + 2_000_000_000L;
            while (System.nanoTime() < until) {
                ObjectNode m = receive(shell, 200);
                if (m != null && id.equals(m.at("/parent_header/msg_id").asText())) {
                    Thread.sleep(200); // let the iopub subscription settle before the first cell
                    return m.get("content");
                }
            }
        }
        close();
        throw new RoutecalException("the kernel did not answer kernel_info within 120 s");
    }

    private ZMQ.Socket socket(SocketType type, int port) {
        ZMQ.Socket s = ctx.socket(type);
        s.setLinger(0);
        s.connect("tcp://127.0.0.1:" + port);
        return s;
    }

    private synchronized String send(ZMQ.Socket socket, String type, ObjectNode content) {
        String id = UUID.randomUUID().toString();
        ObjectNode header = JSON.createObjectNode().put("msg_id", id).put("username", "routecal").put("session", session)
                .put("date", Instant.now().toString()).put("msg_type", type).put("version", "5.3");
        byte[][] parts = {bytes(header), "{}".getBytes(StandardCharsets.UTF_8), "{}".getBytes(StandardCharsets.UTF_8), bytes(content)};
        mac.reset();
        for (byte[] p : parts) mac.update(p);
        socket.sendMore(DELIMITER);
        socket.sendMore(HexFormat.of().formatHex(mac.doFinal()));
        for (int i = 0; i < parts.length; i++) {
            if (i < parts.length - 1) socket.sendMore(parts[i]);
            else socket.send(parts[i]);
        }
        return id;
    }

    private ObjectNode receive(ZMQ.Socket socket) {
        return receive(socket, -1);
    }

    /** One message, or null when none came within {@code timeoutMs} (negative: one is known to be waiting). */
    private ObjectNode receive(ZMQ.Socket socket, int timeoutMs) {
        if (timeoutMs >= 0) socket.setReceiveTimeOut(timeoutMs);
        List<byte[]> frames = new ArrayList<>();
        byte[] f = socket.recv(timeoutMs >= 0 ? 0 : ZMQ.DONTWAIT);
        if (f == null) return null;
        frames.add(f);
        while (socket.hasReceiveMore()) frames.add(socket.recv());
        int d = 0;
        while (d < frames.size() && !java.util.Arrays.equals(frames.get(d), DELIMITER)) d++;
        if (frames.size() < d + 6) return null;
        try {
            ObjectNode m = JSON.createObjectNode();
            m.set("header", JSON.readTree(frames.get(d + 2)));
            m.set("parent_header", JSON.readTree(frames.get(d + 3)));
            m.set("content", JSON.readTree(frames.get(d + 5)));
            return m;
        } catch (IOException e) {
            return null; // a frame that is not JSON: not a message of this protocol
        }
    }

    private static byte[] bytes(JsonNode n) {
        return n.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static int[] freePorts(int n) throws IOException {
        int[] ports = new int[n];
        List<ServerSocket> held = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
                held.add(s);
                ports[i] = s.getLocalPort();
            }
        } finally {
            for (ServerSocket s : held) s.close();
        }
        return ports;
    }

    /** A kernelspec's language_info for the notebook's metadata. */
    Map<String, Object> languageInfo() {
        Map<String, Object> li = new LinkedHashMap<>();
        kernelInfo.path("language_info").fields().forEachRemaining(e -> li.put(e.getKey(), e.getValue()));
        return li;
    }
}
