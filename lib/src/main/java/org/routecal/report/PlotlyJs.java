package org.routecal.report;

import org.routecal.RoutecalException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Base64;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * plotly.js for offline pages and notebook outputs, embedded gzipped and inflated by the browser.
 * <p>
 * The bundle is npm's minified {@code plotly.js-dist-min} (4.6 MB), put into the jar by {@code lib/build/plotly.sh};
 * gzipped and base64-encoded it is 1.8 MB, so a report with one copy stays small. A build without npm falls back to the
 * unminified WebJar (larger pages, same behaviour). Pinned to 2.35.x: plotly.js 3 changed title and layout defaults
 * that our figures and JupyterLab's plotly renderer (2.x) agree on.
 * <p>
 * A page (or a notebook output) carries the bundle as an inert {@code <script type="text/x-routecal-plotly">}
 * element ({@link #bundleTag}); every chart carries the small {@link #loader} that finds it, inflates it with the
 * browser's own {@code DecompressionStream}, runs it once, and caches it in the browser's IndexedDB so that charts
 * still draw after the output holding the bundle was cleared, after a reload, or in a second tab.
 */
public final class PlotlyJs {
    public static final String VERSION = "2.35.3";
    private static final String MINIFIED = "org/routecal/report/plotly-" + VERSION + ".min.js";
    private static final String WEBJAR = "META-INF/resources/webjars/plotly.js-dist/" + VERSION + "/plotly.js";
    private static volatile String gzipBase64;
    private static volatile boolean minified;

    private PlotlyJs() {}

    /** The inert element holding the gzipped bundle; a page needs it once. */
    public static String bundleTag() {
        return "<script type=\"text/x-routecal-plotly\" data-version=\"" + VERSION + "\">" + gzipBase64() + "</script>\n";
    }

    /** Whether the jar holds the minified bundle (false: the build had no npm and used the WebJar's unminified one). */
    public static boolean isMinified() {
        gzipBase64();
        return minified;
    }

    /**
     * Defines {@code window.routecalPlotly()}, a promise of {@code window.Plotly}: from the page if already loaded,
     * else from a bundle element anywhere in the page, else from the IndexedDB copy, retrying for 10 s while a
     * notebook renders its outputs. Idempotent, so every chart can carry it.
     */
    public static String loader() {
        return LOADER;
    }

    private static final String LOADER = ("window.routecalPlotly=window.routecalPlotly||(function(){"
            + "var V='" + VERSION + "',pending=null;"
            + "function fromPage(){var e=document.querySelector('script[type=\"text/x-routecal-plotly\"][data-version=\"'+V+'\"]');"
            + "return e?e.textContent.trim():null;}"
            // IndexedDB: the bundle survives reloads and cleared outputs per origin; any failure just means no cache.
            + "function idb(mode,op){return new Promise(function(ok){try{var q=indexedDB.open('routecal',1);"
            + "q.onupgradeneeded=function(){q.result.createObjectStore('plotly');};q.onerror=function(){ok(null);};"
            + "q.onsuccess=function(){try{var t=q.result.transaction('plotly',mode),r=op(t.objectStore('plotly'));"
            + "t.oncomplete=function(){ok(r.result===undefined?null:r.result);};t.onerror=t.onabort=function(){ok(null);};"
            + "}catch(x){ok(null);}};}catch(x){ok(null);}});}"
            + "function find(n){var b=fromPage();if(b){idb('readwrite',function(s){return s.put(b,V);});return Promise.resolve(b);}"
            + "return idb('readonly',function(s){return s.get(V);}).then(function(c){if(c)return c;"
            + "if(n>=20)throw new Error('plotly.js '+V+' is not in this page');"
            + "return new Promise(function(r){setTimeout(r,500);}).then(function(){return find(n+1);});});}"
            + "function inflate(b){var s=atob(b),a=new Uint8Array(s.length);for(var i=0;i<s.length;i++)a[i]=s.charCodeAt(i);"
            + "return new Response(new Blob([a]).stream().pipeThrough(new DecompressionStream('gzip'))).text();}"
            // The UMD bundle registers with RequireJS (classic Notebook) instead of setting window.Plotly when a global
            // define exists, so define is hidden while the bundle runs.
            + "function run(src){if(!window.Plotly){var d=window.define;window.define=undefined;"
            + "try{var e=document.createElement('script');e.textContent=src;document.head.appendChild(e);}"
            + "finally{window.define=d;}}if(!window.Plotly)throw new Error('plotly.js did not load');return window.Plotly;}"
            + "return function(){if(window.Plotly)return Promise.resolve(window.Plotly);"
            + "if(!pending){pending=find(0).then(inflate).then(run);pending.catch(function(){pending=null;});}"
            + "return pending;};})();");

    private static String gzipBase64() {
        String s = gzipBase64;
        if (s == null) {
            synchronized (PlotlyJs.class) {
                if (gzipBase64 == null) gzipBase64 = Base64.getEncoder().encodeToString(gzip(read()));
                s = gzipBase64;
            }
        }
        return s;
    }

    private static byte[] read() {
        ClassLoader cl = PlotlyJs.class.getClassLoader();
        try (InputStream min = cl.getResourceAsStream(MINIFIED)) {
            if (min != null) {
                minified = true;
                return min.readAllBytes();
            }
        } catch (IOException e) {
            throw new RoutecalException("cannot read " + MINIFIED + ": " + e.getMessage(), e);
        }
        try (InputStream in = cl.getResourceAsStream(WEBJAR)) {
            if (in == null) {
                throw new RoutecalException("plotly.js " + VERSION + " is missing from the class path (" + MINIFIED
                        + " or " + WEBJAR + "): rebuild routecal");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new RoutecalException("cannot read " + WEBJAR + ": " + e.getMessage(), e);
        }
    }

    private static byte[] gzip(byte[] bytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length / 3);
        try (GZIPOutputStream gz = new GZIPOutputStream(out, 1 << 16) {{ def.setLevel(Deflater.BEST_COMPRESSION); }}) {
            gz.write(bytes);
        } catch (IOException e) {
            throw new IllegalStateException("gzip in memory failed", e);
        }
        return out.toByteArray();
    }
}
