package org.routecal.tokenize;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.routecal.RoutecalException;
import org.routecal.tokenize.jinja.JinjaException;
import org.routecal.tokenize.jinja.JinjaTemplate;

/**
 * A model's chat template, rendered exactly as transformers' {@code apply_chat_template(messages, tokenize=False,
 * add_generation_prompt=..., **kwargs)}: the template sees {@code messages}, {@code tools} and {@code documents}
 * (None when absent), {@code add_generation_prompt}, the tokenizer's named special tokens ({@code bos_token},
 * {@code eos_token}, ...) and every extra keyword such as {@code enable_thinking}. A keyword left out of {@code extra}
 * is undefined in the template, so the template's own default applies (as when the kwarg is not passed in Python).
 */
public final class ChatTemplate {
    private final String source;
    private final String origin;
    private final Map<String, String> specialTokens;
    private final JinjaTemplate template;

    /**
     * @param source        the jinja template text
     * @param origin        where it came from (a file name), for error messages
     * @param specialTokens named special tokens ({@code bos_token} → text), visible to the template
     */
    public ChatTemplate(String source, String origin, Map<String, String> specialTokens) {
        this.source = source;
        this.origin = origin;
        this.specialTokens = Map.copyOf(specialTokens);
        try {
            this.template = JinjaTemplate.parse(source);
        } catch (JinjaException e) {
            throw new RoutecalException("chat template in " + origin + " does not parse: " + e.getMessage(), e);
        }
    }

    public String source() { return source; }

    /**
     * Renders messages: the one way a chat becomes text in routecal. Each message reaches the template as
     * {@link ChatMessage#toTemplateMap()}; {@code extra} holds the keyword arguments ({@code enable_thinking},
     * {@code tools}, ...).
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, ?> extra) {
        List<Map<String, Object>> maps = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) maps.add(m.toTemplateMap());
        return renderMaps(maps, addGenerationPrompt, extra);
    }

    /** The template on JSON-like maps, exactly what the Jinja code sees. */
    String renderMaps(List<? extends Map<String, ?>> messages, boolean addGenerationPrompt, Map<String, ?> extra) {
        Map<String, Object> ctx = new LinkedHashMap<>(specialTokens);
        ctx.putAll(extra);
        ctx.put("messages", messages);
        ctx.putIfAbsent("tools", null);
        ctx.putIfAbsent("documents", null);
        ctx.put("add_generation_prompt", addGenerationPrompt);
        try {
            return template.render(ctx);
        } catch (JinjaException e) {
            throw new RoutecalException("chat template in " + origin + " failed: " + e.getMessage(), e);
        }
    }
}
