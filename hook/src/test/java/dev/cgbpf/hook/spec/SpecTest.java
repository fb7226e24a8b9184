package dev.cgbpf.hook.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class SpecTest {
    static byte[] b(String s) {
        return s.replace('\'', '"').getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void stateWithUnknownFieldsParses() throws Exception {
        State s = State.parse(b("{'ociVersion':'1.2.0','id':'web-1','status':'created','pid':4242,"
                + "'bundle':'/run/b','annotations':{'dev.cgbpf.bind-ip':'127.0.0.5'},'future':{'x':[1]}}"));
        assertEquals("web-1", s.id());
        assertEquals(4242, s.pid());
        assertEquals("127.0.0.5", s.annotations().get("dev.cgbpf.bind-ip"));
    }

    @Test
    void poststopStateWithoutPid() throws Exception {
        State s = State.parse(b("{'ociVersion':'1.0.2','id':'c','status':'stopped','bundle':'/b'}"));
        assertNull(s.pid());
        assertTrue(s.annotations().isEmpty());
    }

    /** Each bad state is one line naming the document and, where there is one, the field. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{                                                                              | state: malformed JSON",
        "[]                                                                             | state: ",
        "{'ociVersion':'1','id':'../x','status':'created','bundle':'/b'}                | state: field 'id': '../x' is not a valid container id",
        "{'ociVersion':'1','id':'..','status':'created','bundle':'/b'}                  | state: field 'id': '..' is not",
        "{'ociVersion':'1','id':'a/b','status':'created','bundle':'/b'}                 | state: field 'id'",
        "{'ociVersion':'1','id':'','status':'created','bundle':'/b'}                    | state: field 'id': missing or empty",
        "{'ociVersion':'1','id':'a','status':'paused','bundle':'/b'}                    | state: field 'status': 'paused' is not one of",
        "{'ociVersion':'1','id':'a','status':'created','pid':'12','bundle':'/b'}        | state: field 'pid': ",
        "{'ociVersion':'1','id':'a','status':'created','pid':-3,'bundle':'/b'}          | state: field 'pid': -3 is not a process id",
        "{'ociVersion':'1','id':'a','status':'created','bundle':'rel'}                  | state: field 'bundle': 'rel' is not an absolute path",
        "{'ociVersion':'1','id':'a','id':'b','status':'created','bundle':'/b'}          | state: malformed JSON: duplicate field",
        "{'ociVersion':'1','id':'a','status':'created','bundle':'/b','annotations':{'k':1}} | state: field 'annotations.k'",
        "{'ociVersion':'1','id':'a','status':'created','bundle':'/b'} {}               | state: ",
    })
    void badStatesAreOneLine(String json, String expectedStart) {
        SpecException e = assertThrows(SpecException.class, () -> State.parse(b(json)));
        assertTrue(e.getMessage().startsWith(expectedStart.strip()), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        assertTrue(!e.getMessage().contains("dev.cgbpf") && !e.getMessage().contains("java."), e.getMessage());
    }

    @Test
    void nulBytesInAnnotationsAreRefused() {
        SpecException e = assertThrows(SpecException.class, () -> State.parse(
                b("{'ociVersion':'1','id':'a','status':'created','bundle':'/b','annotations':{'dev.cgbpf.devices':'allow\\u0000'}}")));
        assertEquals("state: field 'annotations.dev.cgbpf.devices': contains a NUL byte", e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "a.b", "x_1", "a+b,c-d", "..."})
    void runcIdsAreAccepted(String id) throws Exception {
        assertEquals(id, ContainerId.validate(id, "state"));
    }

    @Test
    void hugeIdIsRefused() {
        assertThrows(SpecException.class, () -> ContainerId.validate("a".repeat(256), "state"));
    }

    @Test
    void configDeviceRulesAreChecked() throws Exception {
        Config c = Config.parse(b("{'ociVersion':'1.0.2','linux':{'cgroupsPath':'/x/y','resources':{'devices':["
                + "{'allow':false,'access':'rwm'},{'allow':true,'type':'c','major':1,'minor':5,'access':'rw'}]},"
                + "'devices':[{'path':'/dev/fuse','type':'c','major':10,'minor':229}]},'process':{'args':['sh']}}"));
        assertEquals(2, c.linux().resources().devices().size());
        assertEquals("/x/y", c.linux().cgroupsPath());
        SpecException e = assertThrows(SpecException.class, () -> Config.parse(b(
                "{'ociVersion':'1','linux':{'resources':{'devices':[{'allow':true,'type':'x','access':'r'}]}}}")));
        assertEquals("config.json: field 'linux.resources.devices[0].type': 'x' is not a device cgroup type (a, b or c)",
                e.getMessage());
        e = assertThrows(SpecException.class, () -> Config.parse(b(
                "{'ociVersion':'1','linux':{'resources':{'devices':[{'allow':true,'access':''}]}}}")));
        assertEquals("config.json: field 'linux.resources.devices[0].access': missing or empty", e.getMessage());
        e = assertThrows(SpecException.class, () -> Config.parse(b(
                "{'ociVersion':'1','linux':{'resources':{'devices':[{'allow':true,'major':1.5,'access':'r'}]}}}")));
        assertTrue(e.getMessage().startsWith("config.json: field 'linux.resources.devices[0].major': "), e.getMessage());
        e = assertThrows(SpecException.class, () -> Config.parse(b("{'ociVersion':'1','hooks':{'prestart':[{'path':'rel'}]}}")));
        assertEquals("config.json: field 'hooks.prestart[0].path': 'rel' is not an absolute path", e.getMessage());
    }
}
