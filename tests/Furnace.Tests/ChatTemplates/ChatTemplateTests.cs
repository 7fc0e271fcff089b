// Chat templates against the official Jinja templates: the expected strings were rendered with Python's jinja2 from
// the chat_template of deepseek-ai/deepseek-llm-7b-chat, deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B (tool-call
// branches left out), meta-llama/Meta-Llama-3-8B-Instruct, Qwen/Qwen2-7B-Instruct and meta-llama/Llama-2-7b-chat-hf,
// on the conversation llama.cpp's tests/test-chat-template.cpp uses and on one with a reasoning block.
using Furnace.Formats.ChatTemplates;

namespace Furnace.Tests.ChatTemplates;

public sealed class ChatTemplateTests
{
    private static readonly Dictionary<string, ChatMessage[]> Conversations = new()
    {
        ["A"] =
        [
            new("system", "You are a helpful assistant"), new("user", "Hello"), new("assistant", "Hi there"),
            new("user", "Who are you"), new("assistant", "   I am an assistant   "), new("user", "Another question"),
        ],
        ["B"] = [new("user", "What is 2+2?"), new("assistant", "<think>\nadd them\n</think>\n\n4"), new("user", "Why?")],
    };

    public static TheoryData<string, string, bool, string> Official => new()
    {
        { "deepseek-llm", "A", true, "<｜begin▁of▁sentence｜>You are a helpful assistant\n\nUser: Hello\n\nAssistant: Hi there<｜end▁of▁sentence｜>User: Who are you\n\nAssistant:    I am an assistant   <｜end▁of▁sentence｜>User: Another question\n\nAssistant:" },
        { "deepseek-llm", "A", false, "<｜begin▁of▁sentence｜>You are a helpful assistant\n\nUser: Hello\n\nAssistant: Hi there<｜end▁of▁sentence｜>User: Who are you\n\nAssistant:    I am an assistant   <｜end▁of▁sentence｜>User: Another question\n\n" },
        { "deepseek-llm", "B", true, "<｜begin▁of▁sentence｜>User: What is 2+2?\n\nAssistant: <think>\nadd them\n</think>\n\n4<｜end▁of▁sentence｜>User: Why?\n\nAssistant:" },
        { "deepseek-llm", "B", false, "<｜begin▁of▁sentence｜>User: What is 2+2?\n\nAssistant: <think>\nadd them\n</think>\n\n4<｜end▁of▁sentence｜>User: Why?\n\n" },
        { "deepseek-r1", "A", true, "<｜begin▁of▁sentence｜>You are a helpful assistant<｜User｜>Hello<｜Assistant｜>Hi there<｜end▁of▁sentence｜><｜User｜>Who are you<｜Assistant｜>   I am an assistant   <｜end▁of▁sentence｜><｜User｜>Another question<｜Assistant｜><think>\n" },
        { "deepseek-r1", "A", false, "<｜begin▁of▁sentence｜>You are a helpful assistant<｜User｜>Hello<｜Assistant｜>Hi there<｜end▁of▁sentence｜><｜User｜>Who are you<｜Assistant｜>   I am an assistant   <｜end▁of▁sentence｜><｜User｜>Another question" },
        { "deepseek-r1", "B", true, "<｜begin▁of▁sentence｜><｜User｜>What is 2+2?<｜Assistant｜>\n\n4<｜end▁of▁sentence｜><｜User｜>Why?<｜Assistant｜><think>\n" },
        { "deepseek-r1", "B", false, "<｜begin▁of▁sentence｜><｜User｜>What is 2+2?<｜Assistant｜>\n\n4<｜end▁of▁sentence｜><｜User｜>Why?" },
        { "deepseek-v3", "A", true, "<｜begin▁of▁sentence｜>You are a helpful assistant<｜User｜>Hello<｜Assistant｜>Hi there<｜end▁of▁sentence｜><｜User｜>Who are you<｜Assistant｜>   I am an assistant   <｜end▁of▁sentence｜><｜User｜>Another question<｜Assistant｜>" },
        { "deepseek-v3", "B", true, "<｜begin▁of▁sentence｜><｜User｜>What is 2+2?<｜Assistant｜><think>\nadd them\n</think>\n\n4<｜end▁of▁sentence｜><｜User｜>Why?<｜Assistant｜>" },
        { "llama3", "A", true, "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n" },
        { "llama3", "A", false, "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|>" },
        { "llama3", "B", true, "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n<think>\nadd them\n</think>\n\n4<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhy?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n" },
        { "llama3", "B", false, "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n<think>\nadd them\n</think>\n\n4<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhy?<|eot_id|>" },
        { "qwen2", "A", true, "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n<|im_start|>assistant\n" },
        { "qwen2", "A", false, "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n" },
        { "qwen2", "B", true, "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\nadd them\n</think>\n\n4<|im_end|>\n<|im_start|>user\nWhy?<|im_end|>\n<|im_start|>assistant\n" },
        { "qwen2", "B", false, "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\nadd them\n</think>\n\n4<|im_end|>\n<|im_start|>user\nWhy?<|im_end|>\n" },
        { "llama2", "A", true, "<s>[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST] Hi there </s><s>[INST] Who are you [/INST] I am an assistant </s><s>[INST] Another question [/INST]" },
        { "llama2", "A", false, "<s>[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST] Hi there </s><s>[INST] Who are you [/INST] I am an assistant </s><s>[INST] Another question [/INST]" },
        { "llama2", "B", true, "<s>[INST] What is 2+2? [/INST] <think>\nadd them\n</think>\n\n4 </s><s>[INST] Why? [/INST]" },
        { "llama2", "B", false, "<s>[INST] What is 2+2? [/INST] <think>\nadd them\n</think>\n\n4 </s><s>[INST] Why? [/INST]" },
    };

    [Theory]
    [MemberData(nameof(Official))]
    public void RendersWhatTheOfficialTemplateRenders(string template, string conversation, bool addGenerationPrompt, string expected)
    {
        Assert.Equal(expected, ChatTemplate.ByName(template).Render(Conversations[conversation], addGenerationPrompt));
    }

    [Theory]
    [InlineData("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}", "chatml")]
    [InlineData("{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}", "qwen2")]
    [InlineData("{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}", "llama3")]
    [InlineData("{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}{{'<｜User｜>' + message['content']}}{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}", "deepseek-r1")]
    [InlineData("{{'<｜User｜>' + message['content']}}{{'<｜Assistant｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}{% if add_generation_prompt and not ns.is_tool %}{{'<｜Assistant｜>'}}{% endif %}", "deepseek-v3")]
    [InlineData("{{ bos_token }}{% if message['role'] == 'user' %}{{ 'User: ' + message['content'] + '\\n\\n' }}{% elif message['role'] == 'assistant' %}{{ 'Assistant: ' + message['content'] + eos_token }}{% endif %}", "deepseek-llm")]
    [InlineData("{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}", "llama2")]
    public void DetectsRealTemplates(string jinja, string expected)
    {
        Assert.Equal(expected, ChatTemplate.Detect(jinja)?.Name);
    }

    [Fact]
    public void UnknownTemplatesAreNotGuessed()
    {
        Assert.Null(ChatTemplate.Detect(null));
        Assert.Null(ChatTemplate.Detect("{{ messages }}"));
        var e = Assert.Throws<FurnaceException>(() => ChatTemplate.ByName("vicuna"));
        Assert.Contains("deepseek-llm", e.Message);
    }

    [Fact]
    public void PlainTemplateWritesRoleLines()
    {
        string s = ChatTemplate.ByName("plain").Render([new("user", "hi"), new("assistant", "yo")], addGenerationPrompt: true);
        Assert.Equal("user: hi\nassistant: yo\nassistant:", s);
    }

    [Fact]
    public void Llama2RejectsRolesThatDoNotAlternate()
    {
        Assert.Throws<FurnaceException>(() => ChatTemplate.ByName("llama2").Render([new("user", "a"), new("user", "b")], false));
    }
}
