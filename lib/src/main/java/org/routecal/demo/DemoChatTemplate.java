package org.routecal.demo;

/**
 * The demo tokenizer's chat template: Qwen3's ChatML template without the tool-calling branches, using only Jinja
 * features the real one uses (namespace, reverse slicing, loop.index0/first/last, string tests, split/strip filters).
 * Assistant turns after the last user query carry their reasoning in a {@code <think>} block; a generation prompt with
 * {@code enable_thinking=false} gets an empty think block, as in Qwen3.
 */
final class DemoChatTemplate {
    private DemoChatTemplate() {}

    static final String TEMPLATE = """
            {%- if messages[0].role == 'system' %}
                {{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}
            {%- endif %}
            {%- set ns = namespace(last_query_index=messages|length - 1, found=false) %}
            {%- for message in messages[::-1] %}
                {%- set index = (messages|length - 1) - loop.index0 %}
                {%- if not ns.found and message.role == 'user' %}
                    {%- set ns.found = true %}
                    {%- set ns.last_query_index = index %}
                {%- endif %}
            {%- endfor %}
            {%- for message in messages %}
                {%- if message.content is string %}
                    {%- set content = message.content %}
                {%- else %}
                    {%- set content = '' %}
                {%- endif %}
                {%- if message.role == 'user' or (message.role == 'system' and not loop.first) %}
                    {{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>' + '\\n' }}
                {%- elif message.role == 'assistant' %}
                    {%- set reasoning_content = '' %}
                    {%- if message.reasoning_content is string %}
                        {%- set reasoning_content = message.reasoning_content %}
                    {%- else %}
                        {%- if '</think>' in content %}
                            {%- set reasoning_content = content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') %}
                            {%- set content = content.split('</think>')[-1].lstrip('\\n') %}
                        {%- endif %}
                    {%- endif %}
                    {%- if loop.index0 > ns.last_query_index %}
                        {%- if loop.last or (not loop.last and reasoning_content) %}
                            {{- '<|im_start|>' + message.role + '\\n<think>\\n' + reasoning_content.strip('\\n') + '\\n</think>\\n\\n' + content.lstrip('\\n') }}
                        {%- else %}
                            {{- '<|im_start|>' + message.role + '\\n' + content }}
                        {%- endif %}
                    {%- else %}
                        {{- '<|im_start|>' + message.role + '\\n' + content }}
                    {%- endif %}
                    {{- '<|im_end|>\\n' }}
                {%- endif %}
            {%- endfor %}
            {%- if add_generation_prompt %}
                {{- '<|im_start|>assistant\\n' }}
                {%- if enable_thinking is defined and enable_thinking is false %}
                    {{- '<think>\\n\\n</think>\\n\\n' }}
                {%- endif %}
            {%- endif %}""";
}
